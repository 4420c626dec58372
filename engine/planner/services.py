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
    ClusterSpec,
    ConcurrencySpec,
    ContainerSpec,
    FunctionSpec,
    MountSpec,
    SecretArg,
    ServerSpec,
    WebKind,
    WebSpec,
)
from engine.engines.common import HF_CACHE, Engine, EngineOptionError, LaunchParams, chat_warmup, format_value
from engine.engines.extra_args_check import check_extra_args
from engine.engines.owned_flags import find_owned_flag, flag_name
from engine.engines.registry import get_engine
from engine.manifest.models.llm import LlmService, ModelSource, ServerConcurrency
from engine.manifest.models.server import ServerService
from engine.manifest.models.web import WebService
from engine.planner.adapters import adapter_inputs, plan_adapters, with_adapter_mounts, with_adapter_names
from engine.planner.caches import cache_specs, resolve_caches
from engine.planner.checks import check_api_key_env, check_cache_mounts, check_engine_env
from engine.planner.container import (
    resolve_container,
    resolve_function_container,
    resolve_routing_region,
    resolve_timeout,
)
from engine.planner.context import PlanContext
from engine.planner.defaults import SERVER_TARGET_CONCURRENCY, WARMUP_REQUESTS
from engine.planner.engine_fields import engine_fields, served_names
from engine.planner.models import (
    model_keys_at,
    service_hub_cache,
    service_model,
    service_model_mounts,
    service_model_secret,
    used_models,
)
from engine.planner.names import class_symbol, function_symbol
from engine.planner.origins import KeyPath, OriginRecorder, planner_default
from engine.planner.warmup import plan_warmup

WEB_KINDS: dict[str, WebKind] = {"asgi": "asgi_app", "wsgi": "wsgi_app", "fastapi_endpoint": "fastapi_endpoint"}


def plan_llm_server(ctx: PlanContext, key: str, svc: LlmService) -> ServerSpec | None:
    path = ("services", key)
    at = ("servers", key)
    rec = ctx.origins
    planned = service_model(ctx, key, svc)  # `model: KEY` planned as its inline form
    if planned is None:
        return None  # an unknown key: validation reported it
    svc, model_source = planned
    model_at = model_keys_at(ctx, key)
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
    extra_secrets: tuple[tuple[str, KeyPath], ...] = ()
    if svc.auth.api_key_secret:
        if engine.api_key_flag is None:
            ctx.report(
                (*path, "auth", "api_key_secret"),
                f"{engine.name} cannot check an API key itself",
                "use Modal proxy auth (auth: {proxy: true})",
            )
        else:
            rec.engine((*at, "secret_args"), engine.name, [(*path, "auth")], parts=True)
            rec.engine((*at, "secret_args", 0), engine.name, [(*path, "auth", "api_key_secret")], parts=True)
            rec.engine((*at, "secret_args", 0, "flag"), engine.name)
            env = rec.pick(
                (*at, "secret_args", 0, "env"),
                (svc.auth.api_key_env, (*path, "auth", "api_key_env")),
                planner_default("SERVER_API_KEY_ENV"),
            )
            secret_args = (SecretArg(flag=engine.api_key_flag, env=env),)
            extra_secrets = ((svc.auth.api_key_secret, (*path, "auth", "api_key_secret")),)
            check_api_key_env(ctx, key, svc)
    else:
        rec.pick((*at, "secret_args"), (None, (*path, "auth", "api_key_secret")))
    # The engine's caches as the service has them (`caches:`): the mounts and the rules use these.
    caches = resolve_caches(ctx, key, svc, engine, service_hub_cache(ctx, key))
    check_cache_mounts(ctx, key, svc, caches.engine)

    model_keys = [(*model_at, "id"), (*model_at, "path")]
    fixed_name = (
        engine.fixed_served_name(model_source.name, model_source.revision) if engine.fixed_served_name else None
    )
    if fixed_name and model_source.served_name:
        ctx.report(
            (*model_at, "served_name"),
            f"{engine.name} answers only to the model it loaded ({fixed_name!r}), not to another name",
            "remove served_name",
        )
    if fixed_name:
        # A path served under itself is the manifest's value; `id@revision` is derived from both.
        rec.engine(
            (*at, "served_model_name"),
            engine.name,
            [*model_keys, (*model_at, "revision")],
            direct=fixed_name == model_source.name,
        )
        served_name = fixed_name
    else:
        served_name = rec.pick(
            (*at, "served_model_name"),
            (model_source.served_name, (*model_at, "served_name")),
            (model_source.id, model_keys[0]),
            (model_source.path, model_keys[1]),
        )
    model = rec.pick((*at, "model"), (model_source.id, model_keys[0]), (model_source.path, model_keys[1]))
    sleep_mode = snapshot.enabled and engine.snapshot is not None
    port = rec.pick((*at, "port"), (svc.port, (*path, "port")), planner_default("SERVER_PORT"))
    adapters, adapter_mounts = plan_adapters(ctx, key, svc, engine)  # LoRA: loaded beside the model
    names = with_adapter_names(ctx, key, svc, engine, served_names(ctx, key, engine, model, served_name), adapters)
    # The engine facts, decided once; the command and everything else derive from them.
    facts = ServerSpec(
        key=key,
        symbol="",
        name=key,
        engine=engine.name,
        model=model,
        served_model_name=served_name,
        container=ContainerSpec(image=""),
        command=(),
        port=port,
        served_names=names,
        lora_adapters=adapters,
        snapshot=engine.snapshot if sleep_mode else None,
        cluster=_cluster(ctx, key, svc, engine),
        **engine_fields(ctx, key, svc, model_source, engine),
    )
    if len(ctx.problems) > before:
        return None
    if facts.cluster is not None and engine.cluster_args is not None:
        rank_args, worker_args = engine.cluster_args(engine.params(facts))
        facts = replace(facts, cluster=replace(facts.cluster, rank_args=rank_args, worker_args=worker_args))
    params = engine.params(facts)
    options = params.options
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
    if engine.check_config is not None:
        for problem in engine.check_config(params, version):
            ctx.report((*path, "engine_args", "config", *problem.at), problem.message, problem.hint)
    try:
        command = engine.command(facts)
    except EngineOptionError as exc:
        ctx.report((*path, "engine_args", exc.key), exc.message, exc.hint)
    if len(ctx.problems) > before:
        return None
    launch_inputs = _launch_inputs(path, svc, model_source, params, model_at)
    _record_command(rec, (*at, "command"), engine.name, command, params, launch_inputs)

    defaults = ctx.manifest.defaults
    user_paths = {*defaults.volumes, *defaults.buckets, *svc.volumes, *svc.buckets}
    # A hub model named by key is cached in its own volume, which then holds the engine's
    # Hugging Face cache: the prefetch function fills the folder the engine reads.
    hub_cache = service_hub_cache(ctx, key)
    cache_mounts = [
        MountSpec(
            path=cache.path,
            kind="volume",
            source=hub_cache
            if hub_cache and cache.key == HF_CACHE.key
            else ctx.cache_volume(cache, engine.name, named_at=caches.named.get(cache.key)),
        )
        for cache in caches.engine.caches
        if cache.path not in user_paths
    ]
    extra_secrets = (*extra_secrets, *service_model_secret(ctx, key))
    snapshot_keys = ((*path, "memory_snapshot"),)
    option_keys = tuple((*path, "engine_args", name) for name in options)
    snapshot_env = engine.snapshot_env if sleep_mode else {}
    launch_env = engine.launch_env(params)
    needed_env = {**snapshot_env, **launch_env}
    rec.engine((*at, "engine_env"), engine.name, [*snapshot_keys, *option_keys])
    # The engine's run-time env first: what the snapshot and the launch need overrides it.
    # A variable the engine sets to a cache's path follows the cache where `caches` moves it.
    runtime_env = {name: caches.moved.get(value, value) for name, value in engine.runtime_env.items()}
    base_env = {
        **{name: (value, ()) for name, value in runtime_env.items()},
        **caches.env,
        **{name: (value, snapshot_keys) for name, value in snapshot_env.items()},
        **{name: (value, option_keys) for name, value in launch_env.items()},
    }
    container_at = (*at, "container")
    if svc.image:
        rec.manifest((*container_at, "image"), (*path, "image"))
        image = svc.image
    else:
        image = ctx.engine_image(engine)
        rec.engine((*container_at, "image"), engine.name)
    container = resolve_container(
        ctx,
        svc,
        at=container_at,
        source=path,
        image=image,
        scaledown_default=planner_default("SERVER_SCALEDOWN_WINDOW"),
        extra_mounts=cache_mounts,
        extra_secrets=extra_secrets,
        base_env=base_env,
        engine=engine.name,
        model_mounts=with_adapter_mounts(service_model_mounts(ctx, key, svc), adapter_mounts),
    )
    container = replace(
        container,
        enable_memory_snapshot=rec.pick(
            (*container_at, "enable_memory_snapshot"),
            (snapshot.enabled, (*path, "memory_snapshot", "enabled"), (*path, "memory_snapshot")),
        ),
        gpu_snapshot=rec.pick((*container_at, "gpu_snapshot"), (snapshot.gpu, (*path, "memory_snapshot", "gpu"))),
    )
    check_engine_env(ctx, key, svc, caches.engine, container.mounts, needed_env)
    if len(ctx.problems) > before:
        return None

    target, limit = _server_concurrency(rec, at, path, svc.concurrency)
    warmup = plan_warmup(
        ctx,
        at,
        path,
        svc.warmup,
        default=chat_warmup(served_name, WARMUP_REQUESTS),
        default_from=(engine.name, list(launch_inputs["served_name"][1])),
        snapshot=sleep_mode,
    )
    rec.object(at, path)
    rec.manifest((*at, "engine"), (*path, "engine"))
    rec.engine((*at, "health_path"), engine.name)
    rec.engine((*at, "ready_on_any_answer"), engine.name)
    rec.manifest((*at, "kind"), (*path, "kind"))
    rec.unset((*at, "command_template"), "an llm server's command is derived by its engine")
    if sleep_mode:
        rec.engine((*at, "snapshot"), engine.name, [(*path, "memory_snapshot")])
    else:
        rec.pick((*at, "snapshot"), (None, (*path, "memory_snapshot")))
    return replace(
        facts,
        symbol=ctx.symbols.claim(class_symbol(key)),
        container=container,
        command=command,
        engine_env={**runtime_env, **needed_env},
        caches=cache_specs(ctx, at, key, svc, engine, caches, container.mounts),
        startup_timeout=rec.pick(
            (*at, "startup_timeout"),
            (svc.startup_timeout, (*path, "startup_timeout")),
            planner_default("SERVER_STARTUP_TIMEOUT"),
        ),
        health_path=engine.health_path,
        target_concurrency=target,
        max_concurrency=limit,
        secret_args=secret_args,
        warmup=warmup,
        **server_http_options(rec, at, path, svc),
    )


def server_http_options(
    rec: OriginRecorder, at: KeyPath, path: KeyPath, svc: LlmService | ServerService
) -> dict[str, Any]:
    """What `app.server` takes from any HTTP server the manifest declares (llm or `kind: server`):
    proxy auth, routing region, exit grace period and HTTP/2, each with its origin recorded."""
    return {
        "requires_proxy_auth": rec.pick(
            (*at, "requires_proxy_auth"), (svc.auth.proxy, (*path, "auth", "proxy")), planner_default("PROXY_AUTH")
        ),
        "routing_region": rec.pick(
            (*at, "routing_region"),
            (svc.routing_region, (*path, "routing_region")),
            planner_default("SERVER_ROUTING_REGION"),
        ),
        "exit_grace_period": rec.pick(
            (*at, "exit_grace_period"),
            (svc.exit_grace_period, (*path, "exit_grace_period")),
            planner_default("SERVER_EXIT_GRACE_PERIOD"),
        ),
        "h2_enabled": rec.pick((*at, "h2_enabled"), (svc.http2, (*path, "http2"))),
    }


def _cluster(ctx: PlanContext, key: str, svc: LlmService, engine: Engine) -> ClusterSpec | None:
    """`@modal.clustered(size=nodes, rdma=...)` for a service on more than one node; None on one.
    Only engines that say how they span nodes (`Engine.cluster_args`) can: vLLM and SGLang."""
    path, at, rec = ("services", key), ("servers", key, "cluster"), ctx.origins
    if svc.nodes == 1:
        rec.pick(at, (None, (*path, "nodes")))
        return None
    if engine.cluster_args is None:
        ctx.report(
            (*path, "nodes"),
            f"{engine.name} cannot be launched across nodes by mdeploy: only vllm and sglang have a "
            "multi-node launch it drives",
            "serve on one node (remove nodes), or use engine vllm or sglang",
        )
        return None
    rec.manifest(at, (*path, "nodes"), parts=True)
    rec.manifest((*at, "nodes"), (*path, "nodes"))
    rec.manifest((*at, "rdma"), (*path, "rdma"))
    rec.engine((*at, "rank_args"), engine.name, [(*path, "nodes")], note="filled in by each container as it starts")
    rec.engine((*at, "worker_args"), engine.name, [(*path, "nodes")], note="on every node but rank 0")
    return ClusterSpec(nodes=svc.nodes, rdma=svc.rdma)


def _launch_inputs(
    path: KeyPath, svc: LlmService, model_source: ModelSource, params: LaunchParams, model_at: KeyPath
) -> dict[str, tuple[bool, list[KeyPath]]]:
    """LaunchParams field -> (whether the param is the manifest value itself, the manifest keys it
    was planned from)."""
    model = [(*model_at, "id"), (*model_at, "path")]
    explicit_tp = getattr(svc.engine_args, "tensor_parallel_size", None) is not None
    return {
        "model": (True, model),
        "revision": (True, [(*model_at, "revision")]),
        "served_name": (True, [(*model_at, "served_name")]) if model_source.served_name else (True, model),
        "port": (True, [(*path, "port")]),
        "tensor_parallel": (explicit_tp, [(*path, "engine_args", "tensor_parallel_size"), (*path, "gpu")]),
        "fast_boot": (False, [(*path, "fast_boot")]),
        "sleep_mode": (False, [(*path, "memory_snapshot")]),
        **{f"options.{name}": (True, [(*path, "engine_args", name)]) for name in params.options},
        **{f"extra_args.{i}": (True, [(*path, "engine_args", "extra_args", i)]) for i in range(len(params.extra_args))},
        **adapter_inputs(path, svc),
    }


def _record_command(
    rec: OriginRecorder,
    at: KeyPath,
    engine: str,
    command: tuple[str, ...],
    params: LaunchParams,
    inputs: dict[str, tuple[bool, list[KeyPath]]],
) -> None:
    """The whole command is the engine's, from every manifest key that fed it; each argv element
    is credited to the param whose planned value it is (vLLM's context-length flag's `8192`: from
    engine_args.max_model_len) or, for text, contains (`MODEL@REV`, derived from both)."""
    rec.engine(at, engine, [key for _, keys in inputs.values() for key in keys], parts=True)
    spelled: list[tuple[str, str]] = []  # (argv spelling, param)
    for name in inputs:
        value = _param_value(params, name)
        if value is not None and not isinstance(value, bool):
            spelled.append((format_value(value), name))
    for index, element in enumerate(command):
        equal = [name for text, name in spelled if text == element]
        within = [
            name
            for text, name in spelled
            if len(text) >= 3 and text != element and text in element and isinstance(_param_value(params, name), str)
        ]
        if equal:
            direct, keys = inputs[equal[0]]
            rec.engine((*at, index), engine, keys, direct=direct)
        elif within:
            rec.engine((*at, index), engine, [key for name in within for key in inputs[name][1]])
        else:
            rec.engine((*at, index), engine)


def _param_value(params: LaunchParams, name: str) -> Any:
    if name.startswith("options."):
        return params.options.get(name.split(".", 1)[1])
    if name.startswith("extra_args."):
        return params.extra_args[int(name.split(".", 1)[1])]
    if name.startswith("lora_adapters."):
        _, index, part = name.split(".")
        return params.lora_adapters[int(index)][0 if part == "name" else 1]
    return getattr(params, name)


def _server_concurrency(
    rec: OriginRecorder, at: KeyPath, path: KeyPath, concurrency: ServerConcurrency | None
) -> tuple[int, int | None]:
    """(target, max): the manifest's, else a target of 32 (capped by max when only max is set)."""
    target_at, max_at = (*at, "target_concurrency"), (*at, "max_concurrency")
    target_key, max_key = (*path, "concurrency", "target"), (*path, "concurrency", "max")
    if concurrency is None:
        rec.pick(max_at, (None, max_key))
        return rec.pick(target_at, (None, target_key), planner_default("SERVER_TARGET_CONCURRENCY")), None
    limit = rec.pick(max_at, (concurrency.max, max_key))
    if concurrency.target is None and concurrency.max is not None and concurrency.max < SERVER_TARGET_CONCURRENCY:
        rec.planner(target_at, "SERVER_TARGET_CONCURRENCY", [max_key])  # capped by max
        return concurrency.max, limit
    target = rec.pick(target_at, (concurrency.target, target_key), planner_default("SERVER_TARGET_CONCURRENCY"))
    return target, limit


def plan_web_service(ctx: PlanContext, key: str, svc: WebService) -> FunctionSpec | None:
    path = ("services", key)
    at = ("functions", key)
    rec = ctx.origins
    defaults = ctx.manifest.defaults
    image = rec.pick(
        (*at, "container", "image"), (svc.image, (*path, "image")), (defaults.image, ("defaults", "image"))
    )
    if image is None:
        ctx.report(
            ("services", key),
            "a web service needs an image with its web framework installed",
            "set `image:` (or defaults.image) to an image whose pip has e.g. fastapi[standard]",
        )
        return None
    kind = WEB_KINDS[svc.interface]
    endpoint = kind == "fastapi_endpoint"
    container = resolve_function_container(ctx, svc, at=at, source=path, image=image)
    rec.object(at, path)
    rec.manifest((*at, "handler"), (*path, "app"))
    for name in ("retries", "schedule", "batching", "max_inputs"):
        rec.unset((*at, name), "a web service has none")
    concurrency = svc.concurrency
    if concurrency:
        rec.manifest((*at, "concurrency"), (*path, "concurrency"), parts=True)
        rec.manifest((*at, "concurrency", "max_inputs"), (*path, "concurrency", "max_inputs"))
        rec.pick(
            (*at, "concurrency", "target_inputs"), (concurrency.target_inputs, (*path, "concurrency", "target_inputs"))
        )
    else:
        rec.pick((*at, "concurrency"), (None, (*path, "concurrency")))
    web_at = (*at, "web")
    rec.manifest(web_at, path, parts=True)
    rec.manifest((*web_at, "kind"), (*path, "interface"))
    if endpoint:
        method = rec.pick((*web_at, "method"), (svc.method, (*path, "method")), planner_default("HTTP_METHOD"))
        docs = rec.pick((*web_at, "docs"), (svc.docs, (*path, "docs")))
    else:
        method, docs = None, False
        rec.unset((*web_at, "method"), "only a fastapi_endpoint has a method")
        rec.unset((*web_at, "docs"), "only a fastapi_endpoint serves /docs")
    rec.unset((*web_at, "port"), "only a web_server has a port")
    rec.unset((*web_at, "startup_timeout"), "only a web_server has a startup timeout")
    rec.unset((*at, "cls"), "a web service serves an app, not a class")
    return FunctionSpec(
        key=key,
        symbol=ctx.symbols.claim(function_symbol(key)),
        name=key,
        handler=svc.app,
        container=container,
        models=used_models(ctx, at, path, svc.models),
        timeout=resolve_timeout(ctx, svc, at=at, source=path),
        routing_region=resolve_routing_region(ctx, svc, at=at, source=path),
        concurrency=(
            ConcurrencySpec(max_inputs=concurrency.max_inputs, target_inputs=concurrency.target_inputs)
            if concurrency
            else None
        ),
        web=WebSpec(
            kind=kind,
            method=method,
            docs=docs,
            requires_proxy_auth=rec.pick(
                (*web_at, "requires_proxy_auth"),
                (svc.auth.proxy, (*path, "auth", "proxy")),
                planner_default("PROXY_AUTH"),
            ),
            label=rec.pick((*web_at, "label"), (svc.label, (*path, "label"))),
        ),
    )
