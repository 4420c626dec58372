"""Blueprints written by hand for the eject tests, so they do not depend on the planner."""

from __future__ import annotations

import dataclasses

import pytest

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

REVISION = "0e9e39f249a16976918f6564b8830bc894c89659"
MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def _vllm_server(**overrides) -> ServerSpec:
    values = dict(
        key="chat",
        symbol="Chat",
        name="chat",
        engine="vllm",
        model=MODEL,
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
        command=(),  # derived below from the fields, by the engine, as the planner does
        port=8000,
        revision=REVISION,
        served_names=(MODEL, "llm"),
        tensor_parallel_size=2,
        fast_boot=True,
        engine_defaults=SERVING_SETTINGS,
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
    server = ServerSpec(**values)
    return dataclasses.replace(server, command=get_engine(server.engine).command(server))


def full_blueprint() -> Blueprint:
    """Every kind of object and option eject renders, in one app."""
    return Blueprint(
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
            FunctionSpec(
                key="ingest",
                symbol="ingest",
                name="ingest",
                handler="pipeline.ingest:run",
                container=ContainerSpec(
                    image="base",
                    cpu=2.0,
                    memory=4096,
                    region=("us-east", "us-west"),
                    cloud="aws",
                    secrets=("aws",),
                    mounts=(MountSpec("/data", "volume", "data"), MountSpec("/raw", "bucket", "raw")),
                    scaling=ScalingSpec(max_containers=10, scaledown_window=60),
                ),
                timeout=3600,
                routing_region="eu-west",
                retries=RetrySpec(3, 2.0, 1.0, 60.0),
                schedule=ScheduleSpec("cron", cron="0 3 * * *", timezone="Europe/Berlin"),
                concurrency=ConcurrencySpec(8, 4),
            ),
            FunctionSpec(
                key="nightly-report",
                symbol="nightly_report",
                name="nightly-report",
                handler="pipeline.report:main",
                container=ContainerSpec(image="base", gpu=("L4", "A10")),
                timeout=300,
                schedule=ScheduleSpec("period", seconds=14400),
                max_inputs=1,
            ),
            FunctionSpec(
                key="embed",
                symbol="embed",
                name="embed",
                handler="pipeline.embed:embed_batch",
                container=ContainerSpec(image="base", gpu=("L4",)),
                batching=BatchingSpec(32, 100),
            ),
            FunctionSpec(
                key="api",
                symbol="api",
                name="api",
                handler="webapp.main:app",
                container=ContainerSpec(image="base"),
                concurrency=ConcurrencySpec(100),
                web=WebSpec("asgi_app", requires_proxy_auth=True, label="acme-api"),
            ),
            FunctionSpec(
                key="score",
                symbol="score",
                name="score",
                handler="webapp.score:handle",
                container=ContainerSpec(image="base"),
                timeout=120,
                web=WebSpec("fastapi_endpoint", method="POST", docs=True),
            ),
        ),
        servers=(_vllm_server(),),
    )


@pytest.fixture
def blueprint() -> Blueprint:
    return full_blueprint()


@pytest.fixture
def make_server():
    return _vllm_server


# ---------------------------------------------------------------------------------------------
# Reading an app back through Modal's own introspection (no network: dehydrated handles)


def _period_seconds(schedule: str) -> str:
    """`Period(hours=4)` and `Period(seconds=14400.0)` are the same schedule: compare seconds."""
    import re

    if not schedule.startswith("Period("):
        return schedule
    units = {
        "years": 365 * 86400,
        "months": 30 * 86400,
        "weeks": 7 * 86400,
        "days": 86400,
        "hours": 3600,
        "minutes": 60,
        "seconds": 1,
    }
    total = sum(units[u] * float(n) for u, n in re.findall(r"(\w+)=([\d.]+)", schedule))
    return f"Period(seconds={total:g})"


def normalized_info(app) -> dict[str, dict]:
    """Every object of a `modal.App`, by Modal name, as a dict of the fields `info()` reports.

    Left out: the image id (None until deployed) and the app-level secret that carries the
    Blueprint into entry.py's containers (an ejected app has no Blueprint to carry).
    """
    import asyncio
    import dataclasses

    from engine.blueprint.codec import ENV_VAR

    objects = {}
    for tag, function in sorted(app._local_state.functions.items()):
        # The private registry holds Modal's async implementation objects; a dehydrated handle's
        # info() does no I/O, so running the coroutine directly is safe.
        info = dataclasses.asdict(asyncio.run(function.info()))
        info.pop("image_info")
        info["secrets"] = [s for s in info["secrets"] if ENV_VAR not in s]
        if info["schedule"] is not None:
            info["schedule"] = _period_seconds(info["schedule"])
        objects[tag] = info
    return objects


@pytest.fixture
def read_back():
    return normalized_info


@pytest.fixture
def import_source(tmp_path):
    """Import Python source as a fresh module (as `modal deploy` would) and return the module."""
    import importlib.util
    import itertools
    import sys

    counter = itertools.count()

    def load(source: str):
        name = f"ejected_app_{next(counter)}"
        path = tmp_path / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load
