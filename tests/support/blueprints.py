"""Blueprints written by hand, for tests that must not depend on the planner.

One set of builders, shared by the eject, local, preflight and backend tests; each area's
conftest passes its own defaults (model, GPU, app name). Keyword arguments go to the spec they
name: a ServerSpec or FunctionSpec field sets that field, a ContainerSpec field (`gpu`, `env`,
`secrets`, `mounts`, ...) sets it on the object's container, so a test writes only what it is about.

`server` fills a ServerSpec the way the planner does: the serving settings not given take the
engine's own defaults and are recorded in `engine_defaults` (the command leaves those to the
engine), `needs_gpu` is the engine's, and the command is the one the engine derives from the
fields, unless a test gives its own (a fake engine, a fixed command line).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from engine.blueprint.model import (
    BatchingSpec,
    Blueprint,
    BucketSpec,
    ConcurrencySpec,
    ContainerSpec,
    DictSpec,
    FunctionSpec,
    ImageSpec,
    ImageStep,
    MountSpec,
    QueueSpec,
    RetrySpec,
    ScalingSpec,
    ScheduleSpec,
    SecretArg,
    SecretSpec,
    ServerSpec,
    SnapshotSpec,
    VolumeSpec,
    WarmupSpec,
    WebSpec,
)
from engine.engines.common import SERVING_SETTINGS
from engine.engines.registry import get_engine

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
REVISION = "0e9e39f249a16976918f6564b8830bc894c89659"

_CONTAINER_FIELDS = frozenset(f.name for f in dataclasses.fields(ContainerSpec))
_SERVER_FIELDS = frozenset(f.name for f in dataclasses.fields(ServerSpec))
_FUNCTION_FIELDS = frozenset(f.name for f in dataclasses.fields(FunctionSpec))
_BLUEPRINT_FIELDS = frozenset(f.name for f in dataclasses.fields(Blueprint))


def _split(fields: dict[str, Any], own: frozenset[str], what: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields of the object itself and those of its container; a name of neither is a typo."""
    mine = {name: value for name, value in fields.items() if name in own}
    container = {name: value for name, value in fields.items() if name not in own}
    unknown = set(container) - _CONTAINER_FIELDS
    if unknown:
        raise TypeError(f"{what}() got unknown fields {sorted(unknown)}")
    for name in ("gpu", "region", "secrets", "mounts"):
        if name in container:
            container[name] = tuple(container[name])
    return mine, container


def _container(given: ContainerSpec | None, image: str, fields: dict[str, Any]) -> ContainerSpec:
    if given is not None:
        return dataclasses.replace(given, **fields)
    return ContainerSpec(image=image, **fields)


def server(
    engine: str = "vllm",
    *,
    key: str = "chat",
    model: str = MODEL,
    command: Iterable[str] | None = None,
    image: str = "img",
    container: ContainerSpec | None = None,
    **fields: Any,
) -> ServerSpec:
    """A server as the planner writes one; `command` None: the one its engine derives."""
    own, container_fields = _split(fields, _SERVER_FIELDS, "server")
    spec_engine = get_engine(engine)
    defaults = spec_engine.setting_defaults
    left = tuple(name for name in SERVING_SETTINGS if name not in own)
    values: dict[str, Any] = {
        "symbol": key.capitalize(),
        "name": key,
        "served_model_name": model,
        "engine_defaults": left,
        "needs_gpu": spec_engine.needs_gpu,
        **{name: defaults[name] for name in left},
        **own,
    }
    spec = ServerSpec(
        key=key,
        engine=engine,
        model=model,
        container=_container(container, image, container_fields),
        command=tuple(command or ()),
        **values,
    )
    return spec if command is not None else dataclasses.replace(spec, command=spec_engine.command(spec))


def function(
    key: str = "job",
    handler: str = "pkg.mod:run",
    *,
    image: str = "img",
    container: ContainerSpec | None = None,
    **fields: Any,
) -> FunctionSpec:
    """A function; symbol and Modal name default to its key (a symbol must be an identifier)."""
    own, container_fields = _split(fields, _FUNCTION_FIELDS, "function")
    values: dict[str, Any] = {"symbol": key.replace("-", "_"), "name": key, **own}
    return FunctionSpec(key=key, handler=handler, container=_container(container, image, container_fields), **values)


def blueprint(
    app: str = "demo", environment: str = "main", source: str = "manifests/demo.yaml", **fields: Any
) -> Blueprint:
    """An app; the object lists may be any iterable."""
    unknown = set(fields) - _BLUEPRINT_FIELDS
    if unknown:
        raise TypeError(f"blueprint() got unknown fields {sorted(unknown)}")
    values = {name: value if name == "tags" else tuple(value) for name, value in fields.items()}
    return Blueprint(app=app, environment=environment, source=source, **values)


# ---------------------------------------------------------------------------------------------
# Every kind of object and option eject renders, in one app


def full_server(**overrides: Any) -> ServerSpec:
    """A vLLM server on H100:2 with every server option set: snapshots, warm-up, an API key."""
    values: dict[str, Any] = dict(
        model=MODEL,
        name="chat",
        served_model_name="llm",
        container=ContainerSpec(
            image="vllm",
            gpu=("H100:2",),
            cpu=4.0,
            memory=32768,
            region=("us-east",),
            secrets=("hf",),
            env={"VLLM_LOGGING_LEVEL": "INFO"},
            mounts=(
                MountSpec("/root/.cache/huggingface", "volume", "hf-cache"),
                MountSpec("/root/.cache/vllm", "volume", "vllm-cache"),
            ),
            scaling=ScalingSpec(min_containers=1, max_containers=4, scaledown_window=900, scaleup_window=30),
            enable_memory_snapshot=True,
            gpu_snapshot=True,
        ),
        port=8000,
        revision=REVISION,
        served_names=(MODEL, "llm"),
        tensor_parallel_size=2,
        fast_boot=True,
        startup_timeout=1200,
        target_concurrency=32,
        max_concurrency=64,
        secret_args=(SecretArg("--api-key", "API_KEY"),),
        warmup=WarmupSpec(
            "/v1/chat/completions", '{"model": "llm", "messages": [{"role": "user", "content": "hi"}]}', 2
        ),
        snapshot=SnapshotSpec("/sleep?level=1", "/wake_up"),
        requires_proxy_auth=True,
        routing_region="us-east",
        exit_grace_period=20,
        h2_enabled=True,
    )
    values.update(overrides)
    return server("vllm", **values)


def full_blueprint(**servers: Any) -> Blueprint:
    """Every kind of object and option eject renders, in one app: two images (a registry one and
    a Debian one with every step), volumes, secrets, a dict, a queue, a bucket, scheduled,
    batched, web and retried functions, and the server of `full_server(**servers)`."""
    return blueprint(
        app="chat-llama",
        environment="prod",
        source="manifests/chat.yaml",
        images=(
            ImageSpec(
                key="vllm",
                base="registry",
                python_version="3.12",
                registry_ref="nvidia/cuda:12.8.0-devel-ubuntu22.04",
                clear_entrypoint=True,
                steps=(
                    ImageStep("uv_pip_install", ("vllm==0.11.0", "huggingface-hub==0.35.0")),
                    ImageStep("env", env={"HF_XET_HIGH_PERFORMANCE": "1"}),
                    ImageStep("add_local_python_source", ("engine",)),
                ),
            ),
            ImageSpec(
                key="base",
                base="debian_slim",
                python_version="3.12",
                steps=(
                    ImageStep("apt_install", ("git",)),
                    ImageStep(
                        "pip_install", ("fastapi[standard]==0.115.12",), extra_index_url="https://example.org/simple"
                    ),
                    ImageStep("run_commands", ("echo 'hi \"there\"'",)),
                    ImageStep("workdir", ("/root",)),
                ),
            ),
        ),
        volumes=(
            VolumeSpec("hf-cache", "huggingface-cache"),
            VolumeSpec("vllm-cache", "vllm-cache"),
            VolumeSpec("data", "pipeline-data", create_if_missing=False),
        ),
        secrets=(SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",)), SecretSpec("aws", "aws-creds")),
        dicts=(DictSpec("results", "pipeline-results"),),
        queues=(QueueSpec("jobs", "jobs"),),
        buckets=(BucketSpec("raw", "acme-raw-data", secret="aws", read_only=True, key_prefix="raw/"),),
        functions=(
            function(
                "ingest",
                "pipeline.ingest:run",
                image="base",
                cpu=2.0,
                memory=4096,
                region=("us-east", "us-west"),
                cloud="aws",
                secrets=("aws",),
                mounts=(MountSpec("/data", "volume", "data"), MountSpec("/raw", "bucket", "raw")),
                scaling=ScalingSpec(max_containers=10, scaledown_window=60),
                timeout=3600,
                routing_region="eu-west",
                retries=RetrySpec(3, 2.0, 1.0, 60.0),
                schedule=ScheduleSpec("cron", cron="0 3 * * *", timezone="Europe/Berlin"),
                concurrency=ConcurrencySpec(8, 4),
            ),
            function(
                "nightly-report",
                "pipeline.report:main",
                image="base",
                gpu=("L4", "A10"),
                timeout=300,
                schedule=ScheduleSpec("period", seconds=14400),
                max_inputs=1,
            ),
            function("embed", "pipeline.embed:embed_batch", image="base", gpu=("L4",), batching=BatchingSpec(32, 100)),
            function(
                "api",
                "webapp.main:app",
                image="base",
                concurrency=ConcurrencySpec(100),
                web=WebSpec("asgi_app", requires_proxy_auth=True, label="acme-api"),
            ),
            function(
                "score",
                "webapp.score:handle",
                image="base",
                timeout=120,
                web=WebSpec("fastapi_endpoint", method="POST", docs=True),
            ),
        ),
        servers=(full_server(**servers),),
    )
