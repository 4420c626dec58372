"""Services -> `ServerSpec` (kind llm: an engine in an `@app.server` class) or `FunctionSpec`
(kind web: the user's ASGI/WSGI app or FastAPI endpoint).

LLM services take the engine's default image unless they name one: `defaults.image` is for the
team's own code, and an engine needs its own pinned stack. The engine's cache volumes are
mounted at the engine's paths wherever the manifest leaves those paths free.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from engine.blueprint.model import (
    ConcurrencySpec,
    FunctionSpec,
    MountSpec,
    SecretArg,
    ServerSpec,
    WebSpec,
)
from engine.blueprint.planner_checks import check_api_key_env, check_cache_mounts, check_engine_env
from engine.blueprint.planner_container import first, resolve_container, resolve_timeout
from engine.blueprint.planner_context import PlanContext
from engine.blueprint.planner_defaults import (
    FUNCTION_SCALEDOWN_WINDOW,
    HTTP_METHOD,
    PROXY_AUTH,
    SERVER_API_KEY_ENV,
    SERVER_EXIT_GRACE_PERIOD,
    SERVER_PORT,
    SERVER_ROUTING_REGION,
    SERVER_SCALEDOWN_WINDOW,
    SERVER_STARTUP_TIMEOUT,
    SERVER_TARGET_CONCURRENCY,
    WARMUP_REQUESTS,
)
from engine.blueprint.planner_names import class_symbol, function_symbol
from engine.engines.common import EngineOptionError, LaunchParams, chat_warmup
from engine.engines.extra_args_check import check_extra_args
from engine.engines.owned_flags import find_owned_flag, flag_name
from engine.engines.registry import get_engine
from engine.manifest.models.shorthands import gpu_count

WEB_KINDS = {"asgi": "asgi_app", "wsgi": "wsgi_app", "fastapi_endpoint": "fastapi_endpoint"}
# engine_args that are not engine options: planned separately, or chosen by mdeploy
_NOT_OPTIONS = {"extra_args", "tensor_parallel_size"}


def tensor_parallel_size(service: Any) -> int:
    """The manifest's value when set (validated equal to the GPU count), else the GPU count."""
    explicit = getattr(service.engine_args, "tensor_parallel_size", None)
    if explicit is not None:
        return explicit
    return gpu_count(service.gpu[0]) if service.gpu else 1


def plan_llm_server(ctx: PlanContext, key: str, svc: Any) -> ServerSpec | None:
    path = ("services", key)
    engine = get_engine(svc.engine)
    before = len(ctx.problems)

    if svc.fast_boot and not engine.supports_fast_boot:
        ctx.report((*path, "fast_boot"), f"{engine.name} has no fast-boot mode", "remove fast_boot")
    snapshot = svc.memory_snapshot
    if snapshot.enabled and engine.snapshot is None:
        ctx.report(
            (*path, "memory_snapshot"),
            f"{engine.name} has no sleep mode, so its containers cannot be snapshotted",
            "use engine vllm or sglang, or remove memory_snapshot",
        )
    secret_args: tuple[SecretArg, ...] = ()
    extra_secrets: tuple[str, ...] = ()
    if svc.auth.api_key_secret:
        if engine.api_key_flag is None:
            ctx.report(
                (*path, "auth", "api_key_secret"),
                f"{engine.name} cannot check an API key itself",
                "use Modal proxy auth (auth: {proxy: true})",
            )
        else:
            secret_args = (SecretArg(flag=engine.api_key_flag, env=first(svc.auth.api_key_env, SERVER_API_KEY_ENV)),)
            extra_secrets = (svc.auth.api_key_secret,)
            check_api_key_env(ctx, key, svc)
    check_cache_mounts(ctx, key, svc, engine)

    fixed_name = engine.fixed_served_name(svc.model.name, svc.model.revision) if engine.fixed_served_name else None
    if fixed_name and svc.model.served_name:
        ctx.report(
            (*path, "model", "served_name"),
            f"{engine.name} answers only to the model it loaded ({fixed_name!r}), not to another name",
            "remove served_name",
        )
    served_name = fixed_name or svc.model.served_name or svc.model.name
    sleep_mode = snapshot.enabled and engine.snapshot is not None
    port = first(svc.port, SERVER_PORT)
    params = LaunchParams(
        model=svc.model.name,
        revision=svc.model.revision,
        served_name=served_name,
        port=port,
        tensor_parallel=tensor_parallel_size(svc),
        fast_boot=svc.fast_boot and engine.supports_fast_boot,
        sleep_mode=sleep_mode,
        options=svc.engine_args.model_dump(exclude=_NOT_OPTIONS, exclude_none=True),
        extra_args=tuple(svc.engine_args.extra_args),
    )
    for index, arg in enumerate(params.extra_args):
        owned = find_owned_flag(arg, engine.owned_flags, engine.flag_syntax, params)
        if owned is not None:
            ctx.report(
                (*path, "engine_args", "extra_args", index),
                f"{flag_name(arg)} is a flag mdeploy sets itself; given again, the engine would use this "
                "value instead of the one the plan, the health check and the warm-up rely on",
                owned.hint(key),
            )
    # Checked against the flags of the version the default image pins; a named image runs a
    # version mdeploy cannot know, so its extra_args pass unchecked (but for the owned flags).
    version = engine.version if svc.image is None else None
    owns = lambda arg: find_owned_flag(arg, engine.owned_flags, engine.flag_syntax, params) is not None  # noqa: E731
    for bad in check_extra_args(engine.name, version, engine.flag_syntax, params.extra_args, owns):
        ctx.report((*path, "engine_args", "extra_args", bad.index), bad.message, bad.hint)
    try:
        command = engine.launch_command(params)
    except EngineOptionError as exc:
        ctx.report((*path, "engine_args", exc.key), exc.message, exc.hint)
    if len(ctx.problems) > before:
        return None

    defaults = ctx.manifest.defaults
    user_paths = {*defaults.volumes, *defaults.buckets, *svc.volumes, *svc.buckets}
    cache_mounts = [
        MountSpec(path=cache.path, kind="volume", source=ctx.cache_volume(cache))
        for cache in engine.caches
        if cache.path not in user_paths
    ]
    needed_env = {**(engine.snapshot_env if sleep_mode else {}), **engine.launch_env(params)}
    base_env = {**engine.runtime_env, **needed_env}
    container = resolve_container(
        ctx.app,
        defaults,
        svc,
        image=svc.image or ctx.engine_image(engine),
        scaledown_default=SERVER_SCALEDOWN_WINDOW,
        extra_mounts=cache_mounts,
        extra_secrets=extra_secrets,
        base_env=base_env,
    )
    container = replace(container, enable_memory_snapshot=snapshot.enabled, gpu_snapshot=snapshot.gpu)
    check_engine_env(ctx, key, svc, engine, container.mounts, needed_env)
    if len(ctx.problems) > before:
        return None

    target, limit = _server_concurrency(svc.concurrency)
    if svc.warmup is False:  # `warmup: false`: none, snapshot or not
        warmup_requests = 0
    elif svc.warmup is not None:
        warmup_requests = first(svc.warmup.requests, WARMUP_REQUESTS)
    else:  # unset: a snapshot should hold a warmed-up engine
        warmup_requests = WARMUP_REQUESTS if sleep_mode else 0
    return ServerSpec(
        key=key,
        symbol=ctx.symbols.claim(class_symbol(key)),
        name=key,
        engine=engine.name,
        model=svc.model.name,
        served_model_name=served_name,
        container=container,
        command=command,
        port=port,
        startup_timeout=first(svc.startup_timeout, SERVER_STARTUP_TIMEOUT),
        health_path=engine.health_path,
        target_concurrency=target,
        max_concurrency=limit,
        secret_args=secret_args,
        warmup=chat_warmup(served_name, warmup_requests) if warmup_requests else None,
        snapshot=engine.snapshot if sleep_mode else None,
        requires_proxy_auth=first(svc.auth.proxy, PROXY_AUTH),
        routing_region=svc.routing_region or SERVER_ROUTING_REGION,
        exit_grace_period=SERVER_EXIT_GRACE_PERIOD,
    )


def _server_concurrency(concurrency: Any) -> tuple[int, int | None]:
    """(target, max): the manifest's, else a target of 32 (capped by max when only max is set)."""
    if concurrency is None:
        return SERVER_TARGET_CONCURRENCY, None
    target = first(concurrency.target, min(SERVER_TARGET_CONCURRENCY, concurrency.max or SERVER_TARGET_CONCURRENCY))
    return target, concurrency.max


def plan_web_service(ctx: PlanContext, key: str, svc: Any) -> FunctionSpec | None:
    defaults = ctx.manifest.defaults
    image = svc.image or defaults.image
    if image is None:
        ctx.report(
            ("services", key),
            "a web service needs an image with its web framework installed",
            "set `image:` (or defaults.image) to an image whose pip has e.g. fastapi[standard]",
        )
        return None
    kind = WEB_KINDS[svc.interface]
    endpoint = kind == "fastapi_endpoint"
    container = resolve_container(
        ctx.app,
        defaults,
        svc,
        image=image,
        scaledown_default=FUNCTION_SCALEDOWN_WINDOW,
    )
    concurrency = svc.concurrency
    return FunctionSpec(
        key=key,
        symbol=ctx.symbols.claim(function_symbol(key)),
        name=key,
        handler=svc.app,
        container=container,
        timeout=resolve_timeout(defaults, svc),
        concurrency=(
            ConcurrencySpec(max_inputs=concurrency.max_inputs, target_inputs=concurrency.target_inputs)
            if concurrency
            else None
        ),
        web=WebSpec(
            kind=kind,
            method=first(svc.method, HTTP_METHOD) if endpoint else None,
            docs=svc.docs if endpoint else False,
            requires_proxy_auth=first(svc.auth.proxy, PROXY_AUTH),
            label=svc.label,
        ),
    )
