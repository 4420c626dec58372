"""Hand-made Blueprints for the plan, cost and diff tests (no manifest, no planner involved)."""

from __future__ import annotations

import pytest

from engine.blueprint.model import (
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
    VolumeSpec,
)


def _chat_server() -> ServerSpec:
    return ServerSpec(
        key="chat",
        symbol="Chat",
        name="chat",
        engine="vllm",
        model="meta-llama/Llama-3.1-8B-Instruct",
        served_model_name="llm",
        container=ContainerSpec(
            image="vllm",
            gpu=("H100:2",),
            cpu=4.0,
            memory=32768,
            secrets=("hf",),
            env={"VLLM_LOGGING_LEVEL": "INFO"},
            mounts=(MountSpec("/root/.cache/huggingface", "volume", "hf-cache"),),
            scaling=ScalingSpec(min_containers=1, max_containers=4, scaledown_window=900),
        ),
        command=(
            "vllm",
            "serve",
            "meta-llama/Llama-3.1-8B-Instruct",
            "--served-model-name",
            "meta-llama/Llama-3.1-8B-Instruct",
            "llm",
            "--tensor-parallel-size",
            "2",
        ),
        startup_timeout=1200,
        target_concurrency=32,
        max_concurrency=64,
        secret_args=(SecretArg("--api-key", "API_KEY"),),
        requires_proxy_auth=True,
    )


def _functions() -> tuple[FunctionSpec, ...]:
    return (
        FunctionSpec(
            key="ingest",
            symbol="ingest",
            name="ingest",
            handler="pipeline.ingest:run",
            container=ContainerSpec(
                image="base",
                cpu=2.0,
                memory=4096,
                secrets=("aws",),
                mounts=(MountSpec("/raw", "bucket", "raw"),),
                scaling=ScalingSpec(max_containers=10),
            ),
            timeout=3600,
            retries=RetrySpec(max_retries=3),
            schedule=ScheduleSpec(kind="cron", cron="0 3 * * *", timezone="Europe/Berlin"),
        ),
        FunctionSpec(
            key="embed",
            symbol="embed",
            name="embed",
            handler="pipeline.embed:run",
            container=ContainerSpec(image="base", gpu=("L4",), scaling=ScalingSpec(min_containers=0)),
            concurrency=ConcurrencySpec(max_inputs=8, target_inputs=4),
            schedule=ScheduleSpec(kind="period", seconds=14400),
        ),
    )


def sample_blueprint() -> Blueprint:
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
                key="base", base="debian_slim", python_version="3.12", steps=(ImageStep("apt_install", ("git",)),)
            ),
        ),
        volumes=(VolumeSpec("hf-cache", "huggingface-cache"),),
        secrets=(SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",)), SecretSpec("aws", "aws-creds")),
        dicts=(DictSpec("results", "pipeline-results"),),
        queues=(QueueSpec("jobs", "jobs"),),
        buckets=(BucketSpec("raw", "acme-raw-data", secret="aws", read_only=True, key_prefix="raw/"),),
        functions=_functions(),
        servers=(_chat_server(),),
    )


@pytest.fixture
def blueprint() -> Blueprint:
    return sample_blueprint()
