"""An llm service's `caches:`: each engine cache volume renamed, moved or turned off.

The engine declares its caches (engine/engines: a Modal name, a path, the variable that moves
it); the service may change each by the engine's name for it. What comes out:
- `engine`: the engine with its caches as the service has them (off ones dropped, the others at
  their path and of their volume name), for the rules of planner/checks.py and the mounts;
- `env`: the variable of each moved cache, pointing at its new path, so the engine writes where
  the volume is;
- `specs`: what the plan shows (a cache the manifest changed, or a volume of its own serves).

A volume of the user's at exactly a cache's path is that cache: the engine's volume is not added
(planner/container.py already leaves a path the manifest mounts alone); `specs` says so.
"""

from __future__ import annotations

import difflib
import posixpath
from dataclasses import dataclass, field, replace

from engine.blueprint.model import CacheSpec, MountSpec
from engine.engines.common import HF_CACHE, CacheVolume, Engine
from engine.engines.registry import ENGINES
from engine.manifest.models.caches import CacheSetting
from engine.manifest.models.llm import LlmService
from engine.manifest.translate import dotted
from engine.planner.context import PlanContext
from engine.planner.origins import KeyPath


@dataclass
class ServiceCaches:
    engine: Engine  # the engine with the caches the service keeps, each where it wants it
    env: dict[str, tuple[str, tuple[KeyPath, ...]]] = field(default_factory=dict)  # name -> (path, manifest keys)
    moved: dict[str, str] = field(default_factory=dict)  # the engine's path -> the service's
    sources: dict[str, KeyPath] = field(default_factory=dict)  # cache key -> the manifest key setting it, or ()
    # cache key -> the manifest key naming its volume: the Blueprint records that origin, so a name
    # that came from a `${VAR}` is shown as its reference, like any value from the manifest.
    named: dict[str, KeyPath] = field(default_factory=dict)


def _settings(
    ctx: PlanContext, key: str, svc: LlmService, engine: Engine
) -> dict[str, tuple[CacheSetting | bool, KeyPath]]:
    """Cache name -> (its setting, the manifest key that sets it): the service's own entry, else
    `defaults.caches`' (an engine without that cache skips a default's). Unknown names reported."""
    names = {cache.setting for cache in engine.caches}
    every = sorted({cache.setting for other in ENGINES.values() for cache in other.caches})
    settings: dict[str, tuple[CacheSetting | bool, KeyPath]] = {}
    for name, value in ctx.manifest.defaults.caches.items():
        where: KeyPath = ("defaults", "caches", name)
        if name in names:
            settings[name] = (value, where)
        elif name not in every and not any(p.key == dotted(where) for p in ctx.problems):
            _unknown(ctx, where, name, "no engine", every)
    for name, value in svc.caches.items():
        where = ("services", key, "caches", name)
        if name in names:
            settings[name] = (value, where)
        else:
            _unknown(ctx, where, name, engine.name, [cache.setting for cache in engine.caches])
    return settings


def _unknown(ctx: PlanContext, where: KeyPath, name: str, whose: str, known: list[str]) -> None:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    listed = ", ".join(known)
    owner = "no engine has" if whose == "no engine" else f"{whose} has no"
    ctx.report(
        where,
        f"{owner} cache named {name!r}: the caches are {listed}"
        if whose == "no engine"
        else f"{owner} cache named {name!r}: its caches are {listed}",
        f"did you mean '{close[0]}'?" if close else f"use one of {listed}",
    )


def resolve_caches(ctx: PlanContext, key: str, svc: LlmService, engine: Engine, hub_cache: str | None) -> ServiceCaches:
    """`hub_cache`: the `volumes` key of the service's hub model, which holds its Hugging Face
    cache (planner/models.py); a different volume the service asks for is a conflict, one it
    inherits from `defaults.caches` gives way to the model's."""
    settings = _settings(ctx, key, svc, engine)
    kept: list[CacheVolume] = []
    result = ServiceCaches(engine=engine)
    for cache in engine.caches:
        setting, where = settings.get(cache.setting, (True, ()))
        is_hub = hub_cache is not None and cache.key == HF_CACHE.key
        inherited = where[:1] == ("defaults",)
        if setting is False and is_hub and inherited:
            setting = True  # the model's volume is this cache; a team-wide `false` does not apply
        if setting is not True:
            result.sources[cache.key] = where
        if setting is False:
            if is_hub:
                ctx.report(
                    where,
                    f"the service's model is cached in volume {hub_cache!r}, which serves as its "
                    f"{cache.setting} cache: it cannot be turned off",
                    "remove it, or write the model inline ({id, revision}) to serve without a cache",
                )
            continue
        if setting is True:
            kept.append(cache)
            continue
        volume = None if is_hub and inherited else setting.volume
        if volume is not None and is_hub and hub_cache is not None:
            declared = ctx.manifest.volumes.get(hub_cache)
            model_volume = declared.resolved_name(hub_cache) if declared else hub_cache
            if volume != model_volume:
                ctx.report(
                    (*where, "volume"),
                    f"the service's model is cached in volume {hub_cache!r} (Modal name {model_volume!r}), "
                    f"which serves as its {cache.setting} cache; it cannot also be {volume!r}",
                    "remove volume here, or change the volume of the models entry",
                )
        path = posixpath.normpath(setting.path) if setting.path is not None else cache.path
        if volume is not None:
            result.named[cache.key] = (*where, "volume")
        kept.append(replace(cache, name=volume or cache.name, path=path))
        if path != cache.path:
            result.moved[cache.path] = path
            if cache.variable:
                result.env[cache.variable] = (path, ((*where, "path"),))
    result.engine = replace(engine, caches=tuple(kept))
    _check_overlap(ctx, result)
    _check_env(ctx, key, svc, result)
    return result


def _check_overlap(ctx: PlanContext, caches: ServiceCaches) -> None:
    """Two caches at one path, or one inside the other, would share or hide a volume."""
    kept = caches.engine.caches
    for index, cache in enumerate(kept):
        for other in kept[:index]:
            if cache.path == other.path or _under(cache.path, other.path) or _under(other.path, cache.path):
                moved = cache if caches.sources.get(cache.key) else other
                where = caches.sources.get(moved.key) or caches.sources.get(other.key, ())
                ctx.report(
                    (*where, "path"),
                    f"the {cache.setting} cache at {cache.path} and the {other.setting} cache at {other.path} "
                    "overlap: one volume would hide the other",
                    "give each cache a path of its own, outside the other's",
                )


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder.rstrip("/") + "/")


def _check_env(ctx: PlanContext, key: str, svc: LlmService, caches: ServiceCaches) -> None:
    """The manifest's env may not point a moved cache's variable elsewhere: the volume would
    be at one path and the engine writing at another."""
    for name, (path, _) in caches.env.items():
        for layer, prefix in ((svc.env, ("services", key, "env")), (ctx.manifest.defaults.env, ("defaults", "env"))):
            if name in layer and layer[name] != path:
                ctx.report(
                    (*prefix, name),
                    f"{name} is where the engine keeps the cache that `caches` moves to {path}; "
                    f"set here to another folder, the engine would write off its volume",
                    "remove it: mdeploy sets it from caches",
                )
                break


def cache_specs(
    ctx: PlanContext,
    at: KeyPath,
    key: str,
    svc: LlmService,
    base: Engine,
    caches: ServiceCaches,
    mounts: tuple[MountSpec, ...],
) -> tuple[CacheSpec, ...]:
    """The caches the plan shows, once the container's mounts are known: each one the manifest
    names under `caches:`, and each one a volume of its own serves; their origins recorded."""
    rec = ctx.origins
    source = ("services", key, "caches")
    by_path = {m.path: m for m in mounts}
    user_paths = {*ctx.manifest.defaults.volumes, *svc.volumes}
    kept = {c.key: c for c in caches.engine.caches}
    specs: list[CacheSpec] = []
    inputs: list[KeyPath] = []
    for cache in base.caches:
        where = caches.sources.get(cache.key, ())
        named = bool(where)
        now = kept.get(cache.key)
        if now is None:
            specs.append(CacheSpec(name=cache.setting, state="off", path=cache.path))
            inputs.append(where)
            continue
        mount = by_path.get(now.path)
        if now.path in user_paths and mount is not None:
            specs.append(CacheSpec(name=cache.setting, state="user", path=now.path, volume=mount.source))
            owner = ("services", key) if now.path in svc.volumes else ("defaults",)
            inputs.append((*owner, "volumes", now.path))
        elif named and mount is not None:
            specs.append(CacheSpec(name=cache.setting, state="volume", path=now.path, volume=mount.source))
            inputs.append(where)
    if not specs:
        rec.unset((*at, "caches"), "every engine cache is the engine's own volume at the engine's path")
        return ()
    rec.planner(
        (*at, "caches"),
        None,
        [source, ("defaults", "caches")],
        parts=True,
        note="the engine's caches as the service has them",
    )
    for index, key_at in enumerate(inputs):
        rec.manifest((*at, "caches", index), key_at)
    return tuple(specs)
