"""Manifest + environment -> Blueprint: every Modal object, fully resolved, in a fixed order.

The one place defaults are applied (see `planner/defaults.py`). The output depends only on the
validated manifest and the environment name, and everything is visited in manifest order, so the
same input gives the same bytes. Mistakes that only show here (an engine that cannot honour a
setting) are collected and raised together as one located `ManifestError`.

Split by concern: `planner_container` (defaults inheritance), `planner_services` (LLM servers
and web apps), `planner_functions`, `planner_images`, `planner_names` (Python symbols).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.blueprint.model import (
    Blueprint,
    BucketSpec,
    DictSpec,
    FunctionSpec,
    ImageSpec,
    QueueSpec,
    SecretSpec,
    ServerSpec,
    VolumeSpec,
)
from engine.blueprint.origins import Origins
from engine.manifest.errors import ManifestError, Problem
from engine.manifest.models.storage import Bucket, ModalDict, Queue, Secret, Volume
from engine.planner.context import PlanContext
from engine.planner.defaults import DEFAULT_ENVIRONMENT, FALLBACK_IMAGE_KEY
from engine.planner.functions import plan_function
from engine.planner.images import debian_slim, plan_images
from engine.planner.models import ImageModels, note_build_step_models, plan_models, plan_prefetch
from engine.planner.names import free_key
from engine.planner.origins import KeyPath, OriginRecorder
from engine.planner.server_kind import plan_server_service
from engine.planner.services import plan_llm_server, plan_web_service

if TYPE_CHECKING:  # imported where used: loading a manifest is validate's, planning is not
    from engine.manifest.validate import LoadedManifest

# Blueprint collection -> the manifest collections its objects are planned from.
_COLLECTIONS = {
    "images": ("images",),
    "volumes": ("volumes",),
    "secrets": ("secrets",),
    "dicts": ("dicts",),
    "queues": ("queues",),
    "buckets": ("buckets",),
    "functions": ("functions", "services"),
    "servers": ("services",),
    "models": ("models",),
}
# ("servers" | "functions", key) -> {env name: value}: see PlannedApp.env_values.
EnvValues = Mapping[tuple[str, str], Mapping[str, str]]


@dataclass(frozen=True)
class PlannedApp:
    """What one planning run decides: the Blueprint, and beside it what never goes into it.

    `origins`: where every Blueprint value came from (read by explain and the human renderers).
    `env_values`: the values of env entries that came from variables. The Blueprint holds such an
    entry as the manifest's `${...}` text; the deploy side (engine/entry.py), the local runner and
    nothing else put these values into the container's environment.
    """

    blueprint: Blueprint
    origins: Origins
    env_values: EnvValues
    warnings: tuple[Problem, ...] = ()  # keys that plan but take no effect (PlanContext.warnings)


def plan_file(
    path: str | Path, env: str | None, environ: Mapping[str, str] | None = None, *, check_project: bool = True
) -> Blueprint:
    """Load, validate and plan the manifest at `path` for environment `env`."""
    return plan_file_with_origins(path, env, environ, check_project=check_project).blueprint


def plan_file_with_origins(
    path: str | Path, env: str | None, environ: Mapping[str, str] | None = None, *, check_project: bool = True
) -> PlannedApp:
    """Load, validate and plan the manifest at `path` for environment `env`, with the record."""
    return load_and_plan(path, env, environ, check_project=check_project)[1]


def load_and_plan(
    path: str | Path, env: str | None, environ: Mapping[str, str] | None = None, *, check_project: bool = True
) -> tuple[LoadedManifest, PlannedApp]:
    """(the LoadedManifest, its plan); every problem of planning and of the project's files
    (handler modules, shipped packages, model paths: `engine/project/`) raised together.

    `check_project=False` is for a manifest whose files are not this working tree's (a git ref's).
    """
    from engine.manifest.validate import load_manifest

    loaded = load_manifest(path, env, environ)
    return loaded, plan_loaded(loaded, check_project=check_project)


def plan_loaded(loaded: LoadedManifest, *, check_project: bool = True) -> PlannedApp:
    """The plan of a loaded manifest; planning's and the project files' problems raised together."""
    problems: list[Problem] = []
    planned = None
    try:
        planned = plan_app_with_origins(loaded)
    except ManifestError as exc:
        problems.extend(exc.problems)
    if check_project:
        from engine.project.checks import project_problems

        servers = planned.blueprint.servers if planned else None
        mounts = {s.key: [m.path for m in s.container.mounts] for s in servers} if servers is not None else None
        problems.extend(project_problems(loaded, mounts))
    if problems:
        raise ManifestError(problems)
    assert planned is not None
    return planned


def plan_app(loaded: LoadedManifest) -> Blueprint:
    """`loaded`: a `LoadedManifest` (manifest, merged, environment, source)."""
    return plan_app_with_origins(loaded).blueprint


def plan_app_with_origins(loaded: LoadedManifest) -> PlannedApp:
    """`loaded`: a `LoadedManifest` (manifest, merged, environment, source)."""
    manifest = loaded.manifest
    ctx = PlanContext(app=manifest.app, manifest=manifest, merged=loaded.merged)
    rec = ctx.origins

    servers: list[ServerSpec] = []
    functions: list[FunctionSpec] = []
    for key, svc in manifest.services.items():
        if svc.kind == "llm":
            server = plan_llm_server(ctx, key, svc)
            if server:
                servers.append(server)
        elif svc.kind == "server":
            server = plan_server_service(ctx, key, svc)
            if server:
                servers.append(server)
        else:
            web = plan_web_service(ctx, key, svc)
            if web:
                functions.append(web)
    fallback_image = free_key(FALLBACK_IMAGE_KEY, set(manifest.images))
    for key, fn in manifest.functions.items():
        spec = plan_function(ctx, key, fn, fallback_image=fallback_image)
        if spec:
            functions.append(spec)
    note_build_step_models(ctx, [s.container.image for s in servers] + [f.container.image for f in functions])
    models = plan_models(ctx)
    taken = {*manifest.services, *manifest.functions}
    prefetch, prefetch_image = plan_prefetch(ctx, models, taken)
    if prefetch is not None and prefetch_image is not None:
        functions.append(prefetch)
        ctx.engine_images[prefetch_image.key] = prefetch_image
    images = _images(ctx, servers, functions, fallback_image)  # its build steps can report problems too
    if ctx.problems:
        raise ManifestError(ctx.problems)

    rec.manifest(("app",), ("app",))
    for collection, keys in _COLLECTIONS.items():
        rec.planner(
            (collection,), None, [(key,) for key in keys], parts=True, note="one object per manifest entry that is used"
        )
    rec.planner(
        ("environment",),
        None if loaded.environment else "DEFAULT_ENVIRONMENT",
        note="the environment chosen when planning (--env, else MODAL_ENVIRONMENT)" if loaded.environment else None,
    )
    rec.planner(("source",), None, note="the manifest path as given, for humans")
    rec.planner(("version",), None, note="the Blueprint format version (engine/blueprint/model.py)")
    rec.manifest(("tags",), ("tags",), parts=True)
    for name in manifest.tags:
        rec.manifest(("tags", name), ("tags", name))
    blueprint = Blueprint(
        app=manifest.app,
        environment=loaded.environment or DEFAULT_ENVIRONMENT,
        source=Path(loaded.source).as_posix(),
        images=images,
        volumes=(
            *(_volume(rec, k, v) for k, v in manifest.volumes.items()),
            *ctx.engine_volumes.values(),
        ),
        secrets=tuple(_secret(rec, k, s) for k, s in manifest.secrets.items()),
        dicts=tuple(
            DictSpec(key=k, name=_named(rec, "dicts", k, d), create_if_missing=d.create_if_missing)
            for k, d in manifest.dicts.items()
        ),
        queues=tuple(
            QueueSpec(key=k, name=_named(rec, "queues", k, q), create_if_missing=q.create_if_missing)
            for k, q in manifest.queues.items()
        ),
        buckets=tuple(_bucket(rec, k, b) for k, b in manifest.buckets.items()),
        functions=tuple(functions),
        servers=tuple(servers),
        tags=dict(manifest.tags),
        models=models,
    )
    env_values = {at: dict(values) for at, values in ctx.env_values.items()}
    return PlannedApp(blueprint, rec.origins(), env_values, tuple(ctx.warnings))


def _images(
    ctx: PlanContext, servers: list[ServerSpec], functions: list[FunctionSpec], fallback_image: str
) -> tuple[ImageSpec, ...]:
    # (image key, handler, the handler's manifest key) of every object
    uses: list[tuple[str, str | None, KeyPath | None]] = [(s.container.image, None, None) for s in servers]
    for function in functions:
        handler_origin = ctx.origins.entries.get(("functions", function.key, "handler"))
        handler_key = handler_origin.sources if handler_origin else ()  # none: the prefetch function's
        key = handler_key[0].key if handler_key else None
        uses.append((function.container.image, function.handler, key))
    extra = dict(ctx.engine_images)
    if any(image == fallback_image for image, _, _ in uses):
        extra[fallback_image] = debian_slim(fallback_image)
        ctx.origins.planner(
            ("images", fallback_image),
            "FALLBACK_IMAGE_KEY",
            note="debian_slim with the planner's Python, for functions that name no image",
        )
    return plan_images(
        ctx.origins,
        ctx.manifest.images,
        extra,
        uses,
        models=ImageModels(ctx),
    )


def _named(rec: OriginRecorder, collection: str, key: str, obj: Volume | Secret | ModalDict | Queue) -> str:
    """Record a named object and its key; its Modal name is `name:`, else the key."""
    at = (collection, key)
    rec.manifest(at, at, parts=True)
    rec.key((*at, "key"), at)
    if obj.name is not None:
        rec.manifest((*at, "name"), (*at, "name"))
    else:
        rec.key((*at, "name"), at)
    if hasattr(obj, "create_if_missing"):
        rec.pick((*at, "create_if_missing"), (obj.create_if_missing, (*at, "create_if_missing")))
    return obj.resolved_name(key)


def _volume(rec: OriginRecorder, key: str, volume: Volume) -> VolumeSpec:
    name = _named(rec, "volumes", key, volume)
    create = rec.pick(
        ("volumes", key, "create_if_missing"), (volume.create_if_missing, ("volumes", key, "create_if_missing"))
    )
    return VolumeSpec(key=key, name=name, create_if_missing=create)


def _secret(rec: OriginRecorder, key: str, secret: Secret) -> SecretSpec:
    name = _named(rec, "secrets", key, secret)
    rec.each(("secrets", key, "required_keys"), ("secrets", key, "required_keys"), len(secret.required_keys))
    return SecretSpec(key=key, name=name, required_keys=tuple(secret.required_keys))


def _bucket(rec: OriginRecorder, key: str, bucket: Bucket) -> BucketSpec:
    at = ("buckets", key)
    rec.manifest(at, at, parts=True)
    rec.key((*at, "key"), at)
    return BucketSpec(
        key=key,
        bucket_name=rec.pick((*at, "bucket_name"), (bucket.bucket, (*at, "bucket"))),
        secret=rec.pick((*at, "secret"), (bucket.secret, (*at, "secret"))),
        read_only=rec.pick((*at, "read_only"), (bucket.read_only, (*at, "read_only"))),
        key_prefix=rec.pick((*at, "key_prefix"), (bucket.key_prefix, (*at, "key_prefix"))),
        bucket_endpoint_url=rec.pick((*at, "bucket_endpoint_url"), (bucket.endpoint_url, (*at, "endpoint_url"))),
        requester_pays=rec.pick((*at, "requester_pays"), (bucket.requester_pays, (*at, "requester_pays"))),
    )
