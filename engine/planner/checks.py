"""Rules between an LLM service and the engine that serves it, checked once the engine is chosen.

The manifest package knows no engine, so these live here, where the planner holds both: the
service as written and the engine's own data (its cache volumes, the variables it sets, whether
it can check an API key). Each problem is located at the manifest key that causes the conflict:
- a mount of the user's at or above an engine cache path (a bucket even at it);
- a variable that moves an engine's cache (HF_HOME, SGLANG_DG_CACHE_DIR, ...) out of every volume,
  or that overrides what a memory snapshot or the launch needs;
- an API key read from a variable the secret does not declare in `required_keys`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping

from engine.blueprint.model import MountSpec
from engine.engines.common import Engine, cache_variables
from engine.manifest.models.llm import LlmService
from engine.planner.container import first
from engine.planner.context import PlanContext
from engine.planner.defaults import SERVER_API_KEY_ENV
from engine.planner.origins import KeyPath


def _is_under(path: str, folder: str) -> bool:
    """`path` is `folder` or inside it (posix paths, normalised)."""
    path, folder = posixpath.normpath(path), posixpath.normpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _user_mounts(ctx: PlanContext, key: str, svc: LlmService) -> dict[str, tuple[KeyPath, str, str]]:
    """Mount path -> (the manifest key that sets it, kind, source), the service winning over defaults."""
    mounts: dict[str, tuple[KeyPath, str, str]] = {}
    for owner, prefix in ((ctx.manifest.defaults, ("defaults",)), (svc, ("services", key))):
        for kind, field in (("volume", "volumes"), ("bucket", "buckets")):
            for path, source in getattr(owner, field).items():
                mounts[path] = ((*prefix, field, path), kind, source)
    return mounts


def check_cache_mounts(ctx: PlanContext, key: str, svc: LlmService, engine: Engine) -> None:
    """A mount above an engine cache path hides the cache volume under it; a bucket cannot be a
    cache at all (a bucket mount keeps no symlinks, which the Hugging Face cache is made of)."""
    for path, (where, kind, source) in _user_mounts(ctx, key, svc).items():
        covered = [c for c in engine.caches if c.path != path and _is_under(c.path, path)]
        if covered:
            volumes = " and ".join(f"{c.name} at {c.path}" for c in covered)
            ctx.report(
                where,
                f"{kind} {source!r} mounted at {path} covers the cache volume{'s' if len(covered) > 1 else ''} "
                f"{engine.name} mounts below it: {volumes}",
                f"mount it elsewhere, or at {covered[0].path} itself to be that cache"
                if kind == "volume"
                else "mount it elsewhere",
            )
        if kind == "bucket" and any(c.path == path for c in engine.caches):
            cache = next(c for c in engine.caches if c.path == path)
            ctx.report(
                where,
                f"bucket {source!r} mounted at {path} takes the place of {engine.name}'s {cache.name} volume, "
                "and a cache must be a volume (a bucket mount keeps no symlinks)",
                "mount the bucket elsewhere; a volume of yours at this path is fine",
            )


def _env_location(ctx: PlanContext, key: str, svc: LlmService, name: str) -> tuple[KeyPath, str]:
    """Where `name` is set for this service, and how to name the service when that is defaults."""
    if name in svc.env:
        return ("services", key, "env", name), ""
    return ("defaults", "env", name), f" (inherited by service {key!r})"


def check_engine_env(
    ctx: PlanContext,
    key: str,
    svc: LlmService,
    engine: Engine,
    mounts: tuple[MountSpec, ...],
    needed: Mapping[str, str],
) -> None:
    """`needed`: the variables the snapshot and the launch set, with their values."""
    env = {**ctx.manifest.defaults.env, **svc.env}
    volume_paths = [m.path for m in mounts if m.kind == "volume"]
    for name, cache in cache_variables(engine).items():
        value = env.get(name)
        if value is None or any(_is_under(value, p) for p in volume_paths):
            continue
        where, whose = _env_location(ctx, key, svc, name)
        # A value that came through ${VAR} may be a secret: it is shown as the reference written.
        shown = ctx.merged.interpolated.get(where, value)
        ctx.report(
            where,
            f"{name} moves {engine.name}'s cache off the {cache.name} volume ({cache.path}) to {shown}, "
            f"which no volume holds{whose}: it would be filled again on every cold start",
            f"remove it, so the cache stays on the {cache.name} volume, or point it into a mounted volume",
        )
    for name, wanted in needed.items():
        if name in env and env[name] != wanted:
            where, whose = _env_location(ctx, key, svc, name)
            ctx.report(
                where,
                f"{engine.name} needs {name}={wanted} here (memory snapshot or launch){whose}",
                "remove it: mdeploy sets it",
            )


def check_api_key_env(ctx: PlanContext, key: str, svc: LlmService) -> None:
    """The API key's variable must be a required key of its secret: Modal then refuses a deploy
    whose secret lacks it, instead of an engine starting without a key."""
    secret_key = svc.auth.api_key_secret
    secret = ctx.manifest.secrets.get(secret_key) if secret_key else None
    if secret is None:  # no API key, or an undeclared secret (reported by the references rule)
        return
    variable = first(svc.auth.api_key_env, SERVER_API_KEY_ENV)
    if variable in secret.required_keys:
        return
    at = ("services", key, "auth", "api_key_env" if svc.auth.api_key_env else "api_key_secret")
    if secret.required_keys:
        hint = f"set api_key_env to one of {', '.join(secret.required_keys)}, or add {variable} to secrets.{secret_key}.required_keys"
    else:
        hint = f"add required_keys: [{variable}] to secrets.{secret_key}"
    ctx.report(
        at, f"the API key is read from {variable}, which secret {secret_key!r} does not list in required_keys", hint
    )
