"""State one planning run shares between the image, service and function planners.

It collects what several objects contribute to (engine images, engine cache volumes, symbol
names), the located problems found on the way (so that all of them are reported at once), the
origin of every value (`origins`) and the values of env entries the Blueprint holds as `${...}`
references (`env_values`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from engine.blueprint.model import ImageSpec, VolumeSpec
from engine.engines.common import CacheVolume, Engine
from engine.manifest.errors import Problem
from engine.manifest.models.manifest import Manifest
from engine.manifest.overlay import Merged
from engine.planner.errors import problem
from engine.planner.models import ModelUses
from engine.planner.names import SymbolTable, free_key
from engine.planner.origins import KeyPath, OriginRecorder


@dataclass
class PlanContext:
    app: str
    manifest: Manifest
    # The loader's Merged: values and their positions (tests plan data with no file behind it,
    # and give anything with `data` and `spans`).
    merged: Merged
    symbols: SymbolTable = field(default_factory=SymbolTable)
    problems: list[Problem] = field(default_factory=list)
    # What plans but does not do what the manifest says (a key with no effect): `mdeploy validate`
    # shows these beside the manifest's own warnings; they never stop a plan.
    warnings: list[Problem] = field(default_factory=list)
    engine_images: dict[str, ImageSpec] = field(default_factory=dict)  # Blueprint key -> spec
    engine_volumes: dict[str, VolumeSpec] = field(default_factory=dict)  # Blueprint key -> spec
    _engine_image_keys: dict[str, str] = field(default_factory=dict)  # engine name -> Blueprint key
    origins: OriginRecorder = field(init=False)
    # ("servers" | "functions", key) -> {env name: value} for env entries whose Blueprint value is
    # the manifest's `${...}` text: the deploy side supplies these values (see planner.PlannedApp).
    env_values: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    # `models:`: who uses each model, and the model key of each llm service that names one.
    model_uses: ModelUses = field(default_factory=lambda: ModelUses({}))
    service_models: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.origins = OriginRecorder(self.merged)

    def report(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.problems.append(problem(self.merged, path, message, hint))

    def warn(self, path: KeyPath, message: str, hint: str | None = None) -> None:
        self.warnings.append(replace(problem(self.merged, path, message, hint), severity="warning"))

    def engine_image(self, engine: Engine) -> str:
        """The Blueprint key of `engine`'s default image, added on first use."""
        if engine.name not in self._engine_image_keys:
            spec = engine.default_image()
            key = free_key(spec.key, set(self.manifest.images) | set(self.engine_images))
            self.engine_images[key] = ImageSpec(**{**spec.__dict__, "key": key})
            self._engine_image_keys[engine.name] = key
            self.origins.engine(("images", key), engine.name)
        return self._engine_image_keys[engine.name]

    def cache_volume(self, cache: CacheVolume, engine: str, named_at: KeyPath | None = None) -> str:
        """The Blueprint key of the volume holding `cache`: the manifest's own volume when it
        declares one with the same Modal name (never two keys for one volume), else a new one.
        `named_at`: the manifest key that named the volume (`caches.NAME.volume`), if one did."""
        for key, volume in self.manifest.volumes.items():
            if volume.resolved_name(key) == cache.name:
                return key
        for key, spec in self.engine_volumes.items():
            if spec.name == cache.name:
                return key
        key = free_key(cache.key, set(self.manifest.volumes) | set(self.engine_volumes))
        self.engine_volumes[key] = VolumeSpec(key=key, name=cache.name, create_if_missing=True)
        self.origins.engine(("volumes", key), engine)
        if named_at is not None:
            self.origins.manifest(("volumes", key, "name"), named_at)
        return key
