"""Manifest + environment -> Blueprint: every Modal object, fully resolved, in a fixed order.

The one place defaults are applied (see `planner_defaults.py`). The output depends only on the
validated manifest and the environment name, and everything is visited in manifest order, so the
same input gives the same bytes. Mistakes that only show here (an engine that cannot honour a
setting) are collected and raised together as one located `ManifestError`.

Split by concern: `planner_container` (defaults inheritance), `planner_services` (LLM servers
and web apps), `planner_functions`, `planner_images`, `planner_names` (Python symbols).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from engine.blueprint.model import (
    BucketSpec,
    Blueprint,
    DictSpec,
    ImageSpec,
    FunctionSpec,
    QueueSpec,
    SecretSpec,
    ServerSpec,
    VolumeSpec,
)
from engine.blueprint.planner_context import PlanContext
from engine.blueprint.planner_defaults import DEFAULT_ENVIRONMENT
from engine.blueprint.planner_functions import plan_function
from engine.blueprint.planner_images import debian_slim, plan_images
from engine.blueprint.planner_names import free_key
from engine.blueprint.planner_services import plan_llm_server, plan_web_service
from engine.manifest.errors import ManifestError, Problem

# Image for functions that name none and have no defaults.image: Modal's debian_slim, with the
# planner's Python (see `planner_images.debian_slim`).
FALLBACK_IMAGE_KEY = "default"


def plan_file(
    path: str | Path, env: str | None, environ: Mapping[str, str] | None = None, *, check_project: bool = True
) -> Blueprint:
    """Load, validate and plan the manifest at `path` for environment `env`."""
    return load_and_plan(path, env, environ, check_project=check_project)[1]


def load_and_plan(
    path: str | Path, env: str | None, environ: Mapping[str, str] | None = None, *, check_project: bool = True
) -> tuple[Any, Blueprint]:
    """(the LoadedManifest, its Blueprint); every problem of planning and of the project's files
    (handler modules, shipped packages, model paths: `engine/project/`) raised together.

    `check_project=False` is for a manifest whose files are not this working tree's (a git ref's).
    """
    from engine.manifest.validate import load_manifest

    loaded = load_manifest(path, env, environ)
    return loaded, plan_loaded(loaded, check_project=check_project)


def plan_loaded(loaded: Any, *, check_project: bool = True) -> Blueprint:
    """The Blueprint of a loaded manifest; planning's and the project files' problems raised together."""
    problems: list[Problem] = []
    blueprint = None
    try:
        blueprint = plan_app(loaded)
    except ManifestError as exc:
        problems.extend(exc.problems)
    if check_project:
        from engine.project.checks import project_problems

        mounts = {s.key: [m.path for m in s.container.mounts] for s in blueprint.servers} if blueprint else None
        problems.extend(project_problems(loaded, mounts))
    if problems:
        raise ManifestError(problems)
    assert blueprint is not None
    return blueprint


def plan_app(loaded: Any) -> Blueprint:
    """`loaded`: a `LoadedManifest` (manifest, merged, environment, source)."""
    manifest = loaded.manifest
    ctx = PlanContext(app=manifest.app, manifest=manifest, merged=loaded.merged)

    servers: list[ServerSpec] = []
    functions: list[FunctionSpec] = []
    for key, svc in manifest.services.items():
        if svc.kind == "llm":
            server = plan_llm_server(ctx, key, svc)
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
    if ctx.problems:
        raise ManifestError(ctx.problems)

    return Blueprint(
        app=manifest.app,
        environment=loaded.environment or DEFAULT_ENVIRONMENT,
        source=Path(loaded.source).as_posix(),
        images=_images(ctx, servers, functions, fallback_image),
        volumes=(
            *(
                VolumeSpec(key=k, name=v.resolved_name(k), create_if_missing=v.create_if_missing)
                for k, v in manifest.volumes.items()
            ),
            *ctx.engine_volumes.values(),
        ),
        secrets=tuple(
            SecretSpec(key=k, name=s.resolved_name(k), required_keys=tuple(s.required_keys))
            for k, s in manifest.secrets.items()
        ),
        dicts=tuple(DictSpec(key=k, name=d.resolved_name(k)) for k, d in manifest.dicts.items()),
        queues=tuple(QueueSpec(key=k, name=q.resolved_name(k)) for k, q in manifest.queues.items()),
        buckets=tuple(_bucket(k, b) for k, b in manifest.buckets.items()),
        functions=tuple(functions),
        servers=tuple(servers),
        tags=dict(manifest.tags),
    )


def _images(
    ctx: PlanContext, servers: list[ServerSpec], functions: list[FunctionSpec], fallback_image: str
) -> tuple[ImageSpec, ...]:
    uses = [(s.container.image, None) for s in servers] + [(f.container.image, f.handler) for f in functions]
    extra = dict(ctx.engine_images)
    if any(image == fallback_image for image, _ in uses):
        extra[fallback_image] = debian_slim(fallback_image)
    return plan_images(ctx.manifest.images, extra, uses)


def _bucket(key: str, bucket: Any) -> BucketSpec:
    return BucketSpec(
        key=key,
        bucket_name=bucket.bucket,
        secret=bucket.secret,
        read_only=bucket.read_only,
        key_prefix=bucket.key_prefix,
        bucket_endpoint_url=bucket.endpoint_url,
        requester_pays=bucket.requester_pays,
    )
