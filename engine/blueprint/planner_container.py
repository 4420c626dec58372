"""`defaults` inheritance: one object's container settings, fully resolved.

The rules (also in the Defaults model's docstring): scalars are the object's own value, else the
default's, else the planner's; `secrets` are a union (defaults first); `env`, `volumes` and
`buckets` are merged, the object winning on a shared key. Engine caches and planner env come in
through the `extra_*` arguments so that every container is built by this one function.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.blueprint.model import ContainerSpec, MountSpec, ScalingSpec
from engine.blueprint.planner_defaults import APP_ENV_VAR, FUNCTION_TIMEOUT


def union(*groups: Iterable[str]) -> tuple[str, ...]:
    """Items of all groups, first occurrence wins, order kept."""
    seen: dict[str, None] = {}
    for group in groups:
        for item in group:
            seen.setdefault(item, None)
    return tuple(seen)


def first(*values: Any) -> Any:
    for value in values:
        if value is not None:
            return value
    return None


def resolve_container(
    app: str,
    defaults: Any,
    obj: Any,
    *,
    image: str,
    scaledown_default: int,
    extra_mounts: Iterable[MountSpec] = (),
    extra_secrets: Iterable[str] = (),
    base_env: Mapping[str, str] | None = None,
) -> ContainerSpec:
    """`obj` is a service or function model; `defaults` the manifest's Defaults.

    `base_env` sits under the manifest's env (engine settings a user may override);
    `extra_mounts` are added at paths the manifest leaves free, for volumes it does not mount.
    """
    cpu = first(obj.cpu, defaults.cpu)
    env = {**(base_env or {}), **defaults.env, **obj.env, APP_ENV_VAR: app}
    mounts = _mounts((defaults, obj), extra_mounts)
    scaling = obj.scaling
    return ContainerSpec(
        image=image,
        gpu=tuple(obj.gpu or ()),
        cpu=float(cpu) if cpu is not None else None,
        memory=first(obj.memory, defaults.memory),
        ephemeral_disk=obj.ephemeral_disk,
        region=tuple(first(obj.region, defaults.region, ())),
        cloud=first(obj.cloud, defaults.cloud),
        secrets=union(defaults.secrets, obj.secrets, extra_secrets),
        env=env,
        mounts=mounts,
        scaling=ScalingSpec(
            min_containers=scaling.min_containers,
            max_containers=scaling.max_containers,
            buffer_containers=scaling.buffer_containers,
            scaledown_window=first(scaling.scaledown_window, defaults.scaledown_window, scaledown_default),
        ),
        nonpreemptible=obj.nonpreemptible,
    )


def resolve_timeout(defaults: Any, obj: Any) -> int:
    """A function's or web service's timeout: its own, else `defaults.timeout`, else Modal's.
    (LLM services have none: their model refuses the key, and `defaults.timeout` skips them.)"""
    return first(obj.timeout, defaults.timeout, FUNCTION_TIMEOUT)


def _mounts(layers: Iterable[Any], extra: Iterable[MountSpec]) -> tuple[MountSpec, ...]:
    # One mapping path -> mount, so an object's volume or bucket replaces a default's at the same
    # path whatever its kind; the first layer to name a path fixes its position (determinism).
    by_path: dict[str, MountSpec] = {}
    for layer in layers:
        for path, key in layer.volumes.items():
            by_path[path] = MountSpec(path=path, kind="volume", source=key)
        for path, key in layer.buckets.items():
            by_path[path] = MountSpec(path=path, kind="bucket", source=key)
    mounts = list(by_path.values())
    mounted_volumes = {m.source for m in mounts if m.kind == "volume"}
    for mount in extra:
        # The manifest's own mount wins: a user who puts another volume at /root/.cache/vllm, or
        # mounts the Hugging Face cache elsewhere, has decided.
        if mount.path in by_path or (mount.kind == "volume" and mount.source in mounted_volumes):
            continue
        mounts.append(mount)
        by_path[mount.path] = mount
    return tuple(mounts)
