"""How the planner records the origin of each value as it decides it (see origins.py).

The planner picks a value with `OriginRecorder.pick(at, candidates...)`: candidates are the
object's own manifest key, then `defaults`, then a planner default, each with the manifest path it
would come from; the first that is set wins and its origin is recorded at the Blueprint path `at`.
Values an engine decides are recorded with the manifest keys that fed them (`engine`), values the
planner derives with theirs (`planner`). So the record is written by the same lines that choose
the values, and cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.blueprint.origins import (
    DEFAULTS,
    ENGINE,
    MANIFEST,
    PLANNER,
    SCHEMA,
    UNSET,
    BlueprintPath,
    Origin,
    Origins,
    Source,
)
from engine.manifest.overlay import Merged
from engine.manifest.source import is_under
from engine.planner import defaults as planner_defaults


@dataclass(frozen=True)
class PlannerDefault:
    """A constant of planner/defaults.py, by name, so the record can say which one decided."""

    name: str
    value: Any


def planner_default(name: str) -> PlannerDefault:
    """The constant `name` of planner/defaults.py (a typo is an AttributeError in every test)."""
    return PlannerDefault(name, getattr(planner_defaults, name))


# A manifest key as the planner spells it: keys and list indices (`("services", "chat", "gpu", 0)`).
KeyPath = tuple[str | int, ...]
# (value, manifest key) or (value, manifest key, shorthand key)
Candidate = tuple[Any, KeyPath] | tuple[Any, KeyPath, KeyPath]


class OriginRecorder:
    """Collects Blueprint path -> Origin for one planning run; `merged` is the loader's Merged."""

    def __init__(self, merged: Merged):
        self._spans = merged.spans
        self._data = merged.data
        self._interpolated = merged.interpolated
        self.entries: dict[BlueprintPath, Origin] = {}
        # source() is asked about the same keys again and again (every field of every object
        # names its defaults and shorthands); the inputs above never change during a run.
        self._sources_seen: dict[tuple[KeyPath, KeyPath | None], Source | None] = {}

    def origins(self) -> Origins:
        return Origins(self.entries)

    # --- manifest inputs ------------------------------------------------------------------------

    def source(self, key: KeyPath, shorthand: KeyPath | None = None) -> Source | None:
        """The manifest input at `key` as a file set it; else the scalar at `shorthand` that stands
        for it (`memory_snapshot: true` for memory_snapshot.enabled); None when no file sets it."""
        asked = (key, shorthand)
        if asked not in self._sources_seen:
            self._sources_seen[asked] = self._source(key, shorthand)
        return self._sources_seen[asked]

    def _source(self, key: KeyPath, shorthand: KeyPath | None) -> Source | None:
        for candidate in (key, shorthand):
            if candidate is None or candidate not in self._spans:
                continue
            if candidate is shorthand and isinstance(self._value(candidate), dict | list):
                continue
            span = self._spans[candidate]
            references = tuple(t for p, t in self._interpolated.items() if is_under(p, candidate))
            return Source(
                key=candidate,
                location=str(span.value) if span.value is not None else None,
                references=references,
                whole=candidate in self._interpolated,
            )
        return None

    def is_set(self, key: KeyPath) -> bool:
        return key in self._spans

    def _value(self, key: KeyPath) -> Any:
        node: Any = self._data
        for part in key:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return None
        return node

    def _sources(self, keys: Iterable[KeyPath]) -> tuple[Source, ...]:
        found = (self.source(tuple(key)) for key in keys)
        return tuple(source for source in found if source is not None)

    # --- recording --------------------------------------------------------------------------------

    def record(self, at: BlueprintPath, origin: Origin) -> None:
        self.entries[tuple(at)] = origin

    def pick(self, at: BlueprintPath, *candidates: Candidate | PlannerDefault) -> Any:
        """The first candidate that is set (not None), its origin recorded at `at`.

        A manifest candidate no file sets still wins when the model gave it a value: that is the
        schema's default. With no candidate set and no planner default, None is recorded as unset.
        """
        keys: list[KeyPath] = []
        for candidate in candidates:
            if isinstance(candidate, PlannerDefault):
                self.record(at, Origin(PLANNER, constant=candidate.name))
                return candidate.value
            value, key, *shorthand = candidate
            keys.append(key)
            if value is None:
                continue
            self.manifest(at, key, shorthand[0] if shorthand else None)
            return value
        self.record(at, Origin(UNSET, sources=tuple(Source(key) for key in keys)))
        return None

    def manifest(
        self, at: BlueprintPath, key: KeyPath, shorthand: KeyPath | None = None, *, parts: bool = False
    ) -> None:
        """The value at `at` is the manifest's value at `key` (as the planner spells it)."""
        source = self.source(key, shorthand)
        if source is None:
            self.record(at, Origin(SCHEMA, sources=(Source(key),), parts=parts))
        else:
            self.record(at, Origin(DEFAULTS if key[0] == "defaults" else MANIFEST, sources=(source,), parts=parts))

    def each(self, at: BlueprintPath, key: KeyPath, count: int) -> None:
        """Elements 0..count-1 at `at` from the manifest list at `key`, or from the one scalar a
        file wrote there (`gpu: A100` planned as ["A100"])."""
        self.manifest(at, key, parts=True)
        listed = isinstance(self._value(key), list)
        for index in range(count):
            self.manifest((*at, index), (*key, index) if listed else key)

    def engine(
        self,
        at: BlueprintPath,
        engine: str,
        inputs: Iterable[KeyPath] = (),
        *,
        direct: bool = False,
        parts: bool = False,
        note: str | None = None,
    ) -> None:
        """Decided by `engine` from the manifest keys `inputs` (those no file sets are left out)."""
        sources = self._sources(inputs)
        self.record(at, Origin(ENGINE, sources=sources, engine=engine, direct=direct, parts=parts, note=note))

    def planner(
        self,
        at: BlueprintPath,
        constant: str | None = None,
        inputs: Iterable[KeyPath] = (),
        *,
        parts: bool = False,
        note: str | None = None,
    ) -> None:
        """Decided by the planner: a constant of planner/defaults.py, or derived from `inputs`."""
        sources = self._sources(inputs)
        self.record(at, Origin(PLANNER, sources=sources, constant=constant, direct=False, parts=parts, note=note))

    def unset(self, at: BlueprintPath, note: str) -> None:
        """Nothing sets the value at `at` (None, False, empty), for the reason `note` gives."""
        self.record(at, Origin(UNSET, note=note))

    def key(self, at: BlueprintPath, path: KeyPath) -> None:
        """The value at `at` is the last key of `path`, the manifest entry's own name. Variables are
        expanded in values only, never in keys, so none of those below `path` made it: the source
        carries no references (else a `${GPU}` under a service would show its name as `(from ${GPU})`)."""
        self.record(at, Origin(DEFAULTS if path[0] == "defaults" else MANIFEST, sources=(self._key_source(path),)))

    def _key_source(self, path: KeyPath) -> Source:
        source = self.source(path)
        return Source(key=path, location=source.location if source else None)

    def object(self, at: BlueprintPath, path: KeyPath) -> None:
        """An object planned from the manifest entry at `path`, and the fields every object has:
        its key and Modal name are the manifest key; its Python symbol is derived from it."""
        self.manifest(at, path, parts=True)
        self.key((*at, "key"), path)
        self.key((*at, "name"), path)
        self.derived_from_key(
            (*at, "symbol"), path, note="a Python name derived from the manifest key (planner/names.py)"
        )

    def derived_from_key(self, at: BlueprintPath, path: KeyPath, note: str) -> None:
        """Derived by the planner from the manifest key of the entry at `path` (see `key`)."""
        self.record(at, Origin(PLANNER, sources=(self._key_source(path),), direct=False, note=note))

    def no_snapshot(self, at: BlueprintPath) -> None:
        """Functions and web apps take no memory snapshot: the manifest has no such setting for them."""
        note = "memory snapshots are a setting of llm services and `kind: cls` functions only"
        self.unset((*at, "enable_memory_snapshot"), note)
        self.unset((*at, "gpu_snapshot"), note)
