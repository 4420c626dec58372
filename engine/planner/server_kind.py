"""`kind: server` -> `ServerSpec` (kind "server"): the manifest's command in an `@app.server` class.

The same Blueprint object as an llm service's, so the Modal backend, the plan, eject, the local
runner and the operate commands treat both alike; what only an engine has (a model, its flags,
its facts) stays empty. The image is the service's (else `defaults.image`): a server brings its
own stack, and mdeploy has no image to offer it.
"""

from __future__ import annotations

from engine.blueprint.model import ServerSpec
from engine.blueprint.server_command import CONTAINER_HOST, fill_command
from engine.manifest.models.server import ServerService
from engine.planner.container import resolve_container
from engine.planner.context import PlanContext
from engine.planner.names import class_symbol
from engine.planner.origins import planner_default
from engine.planner.services import _server_concurrency, server_http_options
from engine.planner.warmup import plan_warmup

# ServerSpec fields only an engine decides: a server's are their (unused) defaults.
_ENGINE_ONLY = (
    "engine",
    "model",
    "served_model_name",
    "revision",
    "served_names",
    "host",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "context_length",
    "max_sequences",
    "memory_utilization",
    "dtype",
    "quantization",
    "kv_cache_dtype",
    "engine_defaults",
    "fast_boot",
    "engine_options",
    "extra_args",
    "engine_env",
    "secret_args",
    "snapshot",
    "lora_adapters",
    "caches",
)


def plan_server_service(ctx: PlanContext, key: str, svc: ServerService) -> ServerSpec | None:
    path = ("services", key)
    at = ("servers", key)
    rec = ctx.origins
    defaults = ctx.manifest.defaults
    container_at = (*at, "container")
    image = rec.pick((*container_at, "image"), (svc.image, (*path, "image")), (defaults.image, ("defaults", "image")))
    if image is None:
        ctx.report(
            (*path, "image"),
            "a server needs an image: mdeploy has none that holds your server",
            'set `image:` to a key of `images`, e.g. one with registry: "ghcr.io/huggingface/text-embeddings-inference:cpu-1.6"',
        )
        return None
    before = len(ctx.problems)
    container = resolve_container(
        ctx,
        svc,
        at=container_at,
        source=path,
        image=image,
        scaledown_default=planner_default("SERVER_SCALEDOWN_WINDOW"),
    )
    rec.no_snapshot(container_at)
    if len(ctx.problems) > before:
        return None
    port = rec.pick((*at, "port"), (svc.port, (*path, "port")), planner_default("SERVER_PORT"))
    rec.each((*at, "command_template"), (*path, "command"), len(svc.command))
    rec.planner(
        (*at, "command"), None, [(*path, "command"), (*path, "port")], note="the command, ${PORT} and ${HOST} filled"
    )
    target, limit = _server_concurrency(rec, at, path, svc.concurrency)
    health = svc.health
    rec.object(at, path)
    rec.manifest((*at, "kind"), (*path, "kind"))
    for name in _ENGINE_ONLY:
        rec.unset((*at, name), "a server has no engine: only its command says what it serves")
    rec.unset((*at, "cluster"), "one container per replica: only LLM engines span nodes (`nodes`)")
    rec.planner((*at, "needs_gpu"), None, [(*path, "gpu")], note="a server needs the GPU it asks for")
    return ServerSpec(
        key=key,
        symbol=ctx.symbols.claim(class_symbol(key)),
        name=key,
        engine="",
        model="",
        served_model_name="",
        container=container,
        command=fill_command(svc.command, port=port, host=CONTAINER_HOST),
        port=port,
        needs_gpu=bool(container.gpu),
        startup_timeout=rec.pick(
            (*at, "startup_timeout"),
            (svc.startup_timeout, (*path, "startup_timeout")),
            planner_default("SERVER_STARTUP_TIMEOUT"),
        ),
        health_path=rec.pick(
            (*at, "health_path"), (health.path, (*path, "health", "path")), planner_default("SERVER_HEALTH_PATH")
        ),
        ready_on_any_answer=rec.pick(
            (*at, "ready_on_any_answer"),
            (None if health.ready is None else health.ready == "any", (*path, "health", "ready")),
            planner_default("SERVER_READY_ON_ANY_ANSWER"),
        ),
        target_concurrency=target,
        max_concurrency=limit,
        warmup=plan_warmup(ctx, at, path, svc.warmup, default=None),
        **server_http_options(rec, at, path, svc),
        kind="server",
        command_template=tuple(svc.command),
    )
