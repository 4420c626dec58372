"""`defaults` inheritance: one object's container settings, fully resolved.

The rules (also in the Defaults model's docstring): scalars are the object's own value, else the
default's, else the planner's; `secrets` are a union (defaults first); `env`, `volumes` and
`buckets` are merged, the object winning on a shared key. Engine caches and planner env come in
through the `extra_*` arguments so that every container is built by this one function. Each value's
origin is recorded as it is picked (planner/origins.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from engine.blueprint.model import ContainerSpec, MountSpec, ScalingSpec
from engine.manifest.models.container import AppFunctionSettings, ContainerSettings
from engine.manifest.models.defaults import Defaults
from engine.manifest.models.llm import LlmService
from engine.manifest.models.server import ServerService
from engine.manifest.models.snapshots import MemorySnapshot
from engine.planner.context import PlanContext
from engine.planner.defaults import APP_ENV_VAR
from engine.planner.models import function_model_parts
from engine.planner.origins import KeyPath, OriginRecorder, PlannerDefault, planner_default


def union(*groups: Iterable[str]) -> tuple[str, ...]:
    """Items of all groups, first occurrence wins, order kept."""
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return tuple(seen)


T = TypeVar("T")
# What has a container: a service or a function (each with the scaling model of its kind).
ContainerOwner = LlmService | ServerService | AppFunctionSettings


def first(*values: T | None) -> T | None:
    for value in values:
        if value is not None:
            return value
    return None


def resolve_container(
    ctx: PlanContext,
    obj: ContainerOwner,
    *,
    at: KeyPath,
    source: KeyPath,
    image: str,
    scaledown_default: PlannerDefault,
    extra_mounts: Iterable[MountSpec] = (),
    extra_secrets: Iterable[tuple[str, KeyPath]] = (),
    base_env: Mapping[str, tuple[str, tuple[KeyPath, ...]]] | None = None,
    engine: str | None = None,
    model_mounts: Iterable[MountSpec] = (),
    model_env: Mapping[str, tuple[str, tuple[KeyPath, ...]]] | None = None,
) -> ContainerSpec:
    """`obj` is a service or function model at manifest path `source`; `at` is the Blueprint path
    of its container (origins are recorded there); `ctx` the PlanContext (defaults, record).

    `base_env` (name -> (value, the manifest keys it came from)) sits under the manifest's env:
    settings of `engine` a user may override. `extra_mounts` (the engine's caches) are added at
    paths the manifest leaves free, for volumes it does not mount; `extra_secrets` are (secret
    key, the manifest key that asked for it).
    `model_mounts` and `model_env` (name -> (path, the manifest keys)) come from the `models`
    the object uses (planner/models.py): the cache volumes, and where the weights lie in them.
    The image is chosen by the caller, which records its origin.
    """
    defaults = ctx.manifest.defaults
    rec = ctx.origins
    rec.planner(
        at, None, [source], parts=True, note="each setting the object's own, else defaults', else the planner's"
    )
    rec.planner((*at, "scaling"), None, [(*source, "scaling")], parts=True, note="autoscaler settings")
    cpu = rec.pick((*at, "cpu"), (obj.cpu, (*source, "cpu")), (defaults.cpu, ("defaults", "cpu")))
    scaling = obj.scaling
    return ContainerSpec(
        image=image,
        gpu=_listed(rec, (*at, "gpu"), (obj.gpu, (*source, "gpu"))),
        cpu=float(cpu) if cpu is not None else None,
        memory=rec.pick((*at, "memory"), (obj.memory, (*source, "memory")), (defaults.memory, ("defaults", "memory"))),
        ephemeral_disk=rec.pick((*at, "ephemeral_disk"), (obj.ephemeral_disk, (*source, "ephemeral_disk"))),
        region=_listed(
            rec, (*at, "region"), (obj.region, (*source, "region")), (defaults.region, ("defaults", "region"))
        ),
        cloud=rec.pick((*at, "cloud"), (obj.cloud, (*source, "cloud")), (defaults.cloud, ("defaults", "cloud"))),
        secrets=_secrets(
            rec,
            (*at, "secrets"),
            (defaults.secrets, ("defaults", "secrets")),
            (obj.secrets, (*source, "secrets")),
            extra_secrets,
        ),
        env=_env(ctx, at, source, obj, base_env or {}, engine, model_env or {}),
        mounts=_mounts(
            rec, (*at, "mounts"), ((defaults, ("defaults",)), (obj, source)), extra_mounts, engine, model_mounts
        ),
        scaling=ScalingSpec(
            min_containers=rec.pick(
                (*at, "scaling", "min_containers"), (scaling.min_containers, (*source, "scaling", "min_containers"))
            ),
            max_containers=rec.pick(
                (*at, "scaling", "max_containers"), (scaling.max_containers, (*source, "scaling", "max_containers"))
            ),
            buffer_containers=rec.pick(
                (*at, "scaling", "buffer_containers"),
                (scaling.buffer_containers, (*source, "scaling", "buffer_containers")),
            ),
            scaledown_window=rec.pick(
                (*at, "scaling", "scaledown_window"),
                (scaling.scaledown_window, (*source, "scaling", "scaledown_window")),
                (defaults.scaledown_window, ("defaults", "scaledown_window")),
                scaledown_default,
            ),
            # Functions' models refuse the key, so only a server's can be set.
            scaleup_window=rec.pick(
                (*at, "scaling", "scaleup_window"), (scaling.scaleup_window, (*source, "scaling", "scaleup_window"))
            ),
        ),
        nonpreemptible=rec.pick((*at, "nonpreemptible"), (obj.nonpreemptible, (*source, "nonpreemptible"))),
    )


def resolve_function_container(
    ctx: PlanContext,
    obj: AppFunctionSettings,
    *,
    at: KeyPath,
    source: KeyPath,
    image: str,
    snapshot: MemorySnapshot | None = None,
) -> ContainerSpec:
    """The container of a function or web service: Modal's function defaults, and the cache
    volume, secret and path variable of each model it uses. `snapshot`: a class's
    `memory_snapshot` (None: a function, which has no such key)."""
    mounts, env, secrets = function_model_parts(ctx, obj, source, at, image)
    container = resolve_container(
        ctx,
        obj,
        at=(*at, "container"),
        source=source,
        image=image,
        scaledown_default=planner_default("FUNCTION_SCALEDOWN_WINDOW"),
        extra_secrets=secrets,
        model_mounts=mounts,
        model_env=env,
    )
    if snapshot is None:
        ctx.origins.no_snapshot((*at, "container"))
        return container
    rec, container_at = ctx.origins, (*at, "container")
    return replace(
        container,
        enable_memory_snapshot=rec.pick(
            (*container_at, "enable_memory_snapshot"),
            (snapshot.enabled, (*source, "memory_snapshot", "enabled"), (*source, "memory_snapshot")),
        ),
        gpu_snapshot=rec.pick((*container_at, "gpu_snapshot"), (snapshot.gpu, (*source, "memory_snapshot", "gpu"))),
    )


def resolve_timeout(ctx: PlanContext, obj: AppFunctionSettings, *, at: KeyPath, source: KeyPath) -> int:
    """A function's or web service's timeout, recorded at `at` + timeout: its own, else
    `defaults.timeout`, else Modal's. (LLM services have none: their model refuses the key, and
    `defaults.timeout` skips them.)"""
    timeout: int = ctx.origins.pick(
        (*at, "timeout"),
        (obj.timeout, (*source, "timeout")),
        (ctx.manifest.defaults.timeout, ("defaults", "timeout")),
        planner_default("FUNCTION_TIMEOUT"),
    )
    return timeout


def resolve_routing_region(ctx: PlanContext, obj: AppFunctionSettings, *, at: KeyPath, source: KeyPath) -> str | None:
    """A function's or web service's routing region: its own, else Modal's (None: not sent)."""
    region: str | None = ctx.origins.pick((*at, "routing_region"), (obj.routing_region, (*source, "routing_region")))
    return region


def _listed(rec: OriginRecorder, at: KeyPath, *candidates: tuple[Any, KeyPath]) -> tuple[str, ...]:
    """The first candidate list that is set, each element recorded (`gpu: A100` is one element)."""
    for value, key in candidates:
        if value is not None:
            rec.each(at, key, len(value))
            return tuple(value)
    rec.pick(at, *candidates)
    return ()


def _secrets(
    rec: OriginRecorder,
    at: KeyPath,
    defaults_group: tuple[Iterable[str], KeyPath],
    own_group: tuple[Iterable[str], KeyPath],
    extra: Iterable[tuple[str, KeyPath]],
) -> tuple[str, ...]:
    """`defaults` secrets, then the object's, then `extra` (key, manifest key) pairs: a union."""
    (defaults, defaults_key), (own, own_key) = defaults_group, own_group
    origin_of: dict[str, KeyPath] = {}
    for group, key in ((defaults, defaults_key), (own, own_key)):
        for index, item in enumerate(group):
            origin_of.setdefault(item, (*key, index) if rec.is_set((*key, index)) else key)
    for item, key in extra:
        origin_of.setdefault(item, key)
    rec.planner(at, None, (defaults_key, own_key), parts=True, note="a union: defaults.secrets, then the object's")
    for index, key in enumerate(origin_of.values()):
        rec.manifest((*at, index), key)
    return tuple(origin_of)


def _env(
    ctx: PlanContext,
    at: KeyPath,
    source: KeyPath,
    obj: ContainerSettings,
    base_env: Mapping[str, tuple[str, tuple[KeyPath, ...]]],
    engine: str | None,
    model_env: Mapping[str, tuple[str, tuple[KeyPath, ...]]],
) -> dict[str, str]:
    """The engine's env, then `defaults.env`, then the object's, then the app name. An entry whose
    value came from a variable keeps the manifest's `${...}` text: its value is not part of the
    Blueprint, and is handed to the deploy side in `ctx.env_values` instead."""
    rec = ctx.origins
    interpolated = ctx.merged.interpolated
    env: dict[str, str] = {}
    values: dict[str, str] = {}
    for name, (value, inputs) in base_env.items():
        env[name] = value
        rec.engine((*at, "env", name), engine or "", inputs)
    for layer, key in ((ctx.manifest.defaults.env, ("defaults", "env")), (obj.env, (*source, "env"))):
        for name, value in layer.items():
            path = (*key, name)
            rec.manifest((*at, "env", name), path)
            template = interpolated.get(path)
            env[name] = value if template is None else template
            if template is None:
                values.pop(name, None)
            else:
                values[name] = value
    for name, (value, inputs) in model_env.items():
        env[name] = value
        values.pop(name, None)
        rec.planner((*at, "env", name), None, inputs, note="the path of a model's weights in its cache volume")
    env[APP_ENV_VAR] = ctx.app
    values.pop(APP_ENV_VAR, None)
    rec.planner((*at, "env", APP_ENV_VAR), "APP_ENV_VAR", [("app",)])
    rec.planner(
        (*at, "env"),
        None,
        (("defaults", "env"), (*source, "env")),
        parts=True,
        note=f"the engine's env, then defaults.env, then the object's, then {APP_ENV_VAR}",
    )
    if values:
        ctx.env_values[(str(at[0]), str(at[1]))] = values  # ("servers" | "functions", key)
    return env


def _mounts(
    rec: OriginRecorder,
    at: KeyPath,
    layers: Iterable[tuple[Defaults | ContainerSettings, KeyPath]],
    extra: Iterable[MountSpec],
    engine: str | None,
    model_mounts: Iterable[MountSpec] = (),
) -> tuple[MountSpec, ...]:
    # One mapping path -> mount, so an object's volume or bucket replaces a default's at the same
    # path whatever its kind; the first layer to name a path fixes its position (determinism).
    by_path: dict[str, MountSpec] = {}
    key_of: dict[str, KeyPath] = {}
    for layer, key in layers:
        for path, volume in layer.volumes.items():
            by_path[path] = MountSpec(path=path, kind="volume", source=volume)
            key_of[path] = (*key, "volumes", path)
        for path, bucket in layer.buckets.items():
            by_path[path] = MountSpec(path=path, kind="bucket", source=bucket)
            key_of[path] = (*key, "buckets", path)
    mounts = list(by_path.values())
    for mount in model_mounts:  # at paths and of volumes the layers do not have (planner_models)
        mounts.append(mount)
        by_path[mount.path] = mount
        key_of[mount.path] = ("models",)
    mounted_volumes = {m.source for m in mounts if m.kind == "volume"}
    for mount in extra:
        # The manifest's own mount wins: a user who puts another volume at /root/.cache/vllm, or
        # mounts the Hugging Face cache elsewhere, has decided.
        if mount.path in by_path or (mount.kind == "volume" and mount.source in mounted_volumes):
            continue
        mounts.append(mount)
        by_path[mount.path] = mount
    rec.planner(
        at,
        None,
        [(*key, kind) for _, key in layers for kind in ("volumes", "buckets")],
        parts=True,
        note="defaults' mounts, the object's (winning on a shared path), then the engine's caches",
    )
    for index, mount in enumerate(mounts):
        if key_of.get(mount.path) == ("models",):
            rec.planner((*at, index), "MODEL_MOUNT_ROOT", [("models",)], note="the cache volume of a model it uses")
        elif mount.path in key_of:
            rec.manifest((*at, index), key_of[mount.path])
        else:
            rec.engine(
                (*at, index), engine or "", note="a cache volume the engine mounts where the manifest mounts none"
            )
    return tuple(mounts)
