"""Hand-made Blueprints for the backend tests, shaped like what the planner produces.

Each one exercises a different corner of the backend: a vLLM server on two H100s with the snapshot
pattern, a scheduled function with retries, a batched function, a FastAPI endpoint with
concurrency, an ASGI app, and every kind of named object. They are data only; the tests read
the expectations back from the same objects, so changing a value here cannot hide a mismatch.
Built with the shared builders of tests/support/blueprints.py (a server's unset serving
settings are its engine's defaults, as the planner writes them).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.blueprint.model import (
    BatchingSpec,
    Blueprint,
    BucketSpec,
    ConcurrencySpec,
    ContainerSpec,
    DictSpec,
    ImageSpec,
    ImageStep,
    MountSpec,
    QueueSpec,
    RetrySpec,
    ScalingSpec,
    ScheduleSpec,
    SecretArg,
    SecretSpec,
    SnapshotSpec,
    VolumeSpec,
    WarmupSpec,
    WebSpec,
)
from tests.support.blueprints import blueprint, function, server

VLLM_IMAGE = ImageSpec(
    key="vllm",
    base="registry",
    python_version="3.12",
    registry_ref="nvidia/cuda:12.8.0-devel-ubuntu22.04",
    clear_entrypoint=True,
    steps=(
        ImageStep(op="uv_pip_install", args=("vllm==0.11.0", "huggingface-hub==0.35.3")),
        ImageStep(op="env", env={"HF_XET_HIGH_PERFORMANCE": "1"}),
        ImageStep(op="add_local_python_source", args=("engine",)),
    ),
)

VLLM_COMMAND = (
    "vllm", "serve", "meta-llama/Llama-3.1-8B-Instruct",
    "--revision", "0e9e39f249a16976918f6564b8830bc894c89659",
    "--served-model-name", "meta-llama/Llama-3.1-8B-Instruct", "llm",
    "--host", "0.0.0.0", "--port", "8000",
    "--tensor-parallel-size", "2", "--enable-sleep-mode",
)  # fmt: skip


def vllm_server() -> Blueprint:
    """A vLLM server on H100:2 with GPU snapshots, warm-up, an API key from a secret."""
    return blueprint(
        app="chat-llama",
        environment="prod",
        source="manifests/chat.yaml",
        images=(VLLM_IMAGE,),
        volumes=(
            VolumeSpec(key="hf-cache", name="huggingface-cache"),
            VolumeSpec(key="vllm-cache", name="vllm-cache"),
        ),
        secrets=(
            SecretSpec(key="hf", name="huggingface-secret", required_keys=("HF_TOKEN",)),
            SecretSpec(key="llm-api", name="llm-api-key", required_keys=("API_KEY",)),
        ),
        servers=(
            server(
                "vllm",
                served_model_name="llm",
                image="vllm",
                gpu=("H100:2",),
                cpu=8.0,
                memory=65536,
                region=("us-east",),
                secrets=("hf", "llm-api"),
                env={"VLLM_LOGGING_LEVEL": "INFO"},
                mounts=(
                    MountSpec(path="/root/.cache/huggingface", kind="volume", source="hf-cache"),
                    MountSpec(path="/root/.cache/vllm", kind="volume", source="vllm-cache"),
                ),
                scaling=ScalingSpec(min_containers=1, max_containers=4, buffer_containers=2, scaledown_window=900),
                enable_memory_snapshot=True,
                gpu_snapshot=True,
                command=VLLM_COMMAND,
                port=8000,
                startup_timeout=1200,
                health_path="/health",
                target_concurrency=32,
                max_concurrency=64,
                secret_args=(SecretArg(flag="--api-key", env="API_KEY"),),
                warmup=WarmupSpec(
                    path="/v1/chat/completions",
                    body='{"model":"llm","messages":[{"role":"user","content":"hi"}],"max_tokens":8}',
                    requests=2,
                ),
                snapshot=SnapshotSpec(sleep_path="/sleep?level=1", wake_path="/wake_up"),
                requires_proxy_auth=False,
                routing_region="us-east",
                exit_grace_period=30,
            ),
        ),
    )


PIPELINE_IMAGE = ImageSpec(
    key="pipeline",
    base="debian_slim",
    python_version="3.12",
    steps=(
        ImageStep(op="apt_install", args=("poppler-utils",)),
        ImageStep(op="uv_pip_install", args=("boto3==1.35.99", "pypdf==5.1.0")),
        ImageStep(op="add_local_python_source", args=("engine", "workloads")),
    ),
)


def pipeline() -> Blueprint:
    """Cron + retries, a batched worker, volumes/secrets/buckets/dicts/queues, a period schedule."""
    base = ContainerSpec(
        image="pipeline",
        secrets=("aws",),
        env={"LOG_LEVEL": "info", "PROCESSED_DICT": "doc-pipeline-processed"},
    )
    return blueprint(
        app="doc-pipeline",
        environment="main",
        source="manifests/pipeline.yaml",
        images=(PIPELINE_IMAGE,),
        volumes=(VolumeSpec(key="results", name="doc-pipeline-results", create_if_missing=False),),
        secrets=(
            SecretSpec(key="aws", name="aws-pipeline", required_keys=("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")),
        ),
        dicts=(DictSpec(key="processed", name="doc-pipeline-processed"),),
        queues=(QueueSpec(key="todo", name="doc-pipeline-todo"),),
        buckets=(
            BucketSpec(
                key="raw", bucket_name="acme-raw-documents", secret="aws", read_only=True, key_prefix="incoming/"
            ),
        ),
        functions=(
            function(
                key="discover",
                handler="workloads.pipeline:discover",
                container=ContainerSpec(
                    image="pipeline",
                    secrets=("aws",),
                    env=dict(base.env),
                    mounts=(MountSpec(path="/raw", kind="bucket", source="raw"),),
                    cloud="aws",
                ),
                timeout=600,
                retries=RetrySpec(max_retries=2, backoff_coefficient=2.0, initial_delay=1.0, max_delay=60.0),
                schedule=ScheduleSpec(kind="cron", cron="0 3 * * *", timezone="Europe/Berlin"),
            ),
            function(
                key="embed",
                handler="workloads.embeddings:embed_batch",
                container=ContainerSpec(
                    image="pipeline",
                    gpu=("L4", "A10"),
                    cpu=2.0,
                    memory=4096,
                    secrets=("aws",),
                    mounts=(
                        MountSpec(path="/results", kind="volume", source="results"),
                        MountSpec(path="/raw", kind="bucket", source="raw"),
                    ),
                    scaling=ScalingSpec(min_containers=1, max_containers=20, buffer_containers=3, scaledown_window=120),
                ),
                timeout=1800,
                retries=RetrySpec(max_retries=4, backoff_coefficient=2.0, initial_delay=5.0, max_delay=60.0),
                batching=BatchingSpec(max_batch_size=64, wait_ms=50),
            ),
            function(
                key="drain",
                handler="workloads.pipeline:drain_queue",
                container=ContainerSpec(image="pipeline", region=("us-east", "us-west")),
                timeout=3300,
                schedule=ScheduleSpec(kind="period", seconds=3600),
                max_inputs=1,
            ),
        ),
    )


WEB_IMAGE = ImageSpec(
    key="web",
    base="debian_slim",
    python_version="3.12",
    steps=(
        ImageStep(op="uv_pip_install", args=("fastapi[standard]==0.115.6",)),
        ImageStep(op="add_local_python_source", args=("engine", "workloads")),
    ),
)


def web() -> Blueprint:
    """A FastAPI endpoint with concurrency and proxy auth, and an ASGI app with a label."""
    return blueprint(
        app="notes-api",
        environment="main",
        source="manifests/web-api.yaml",
        images=(WEB_IMAGE,),
        dicts=(DictSpec(key="notes", name="notes-api-store"),),
        functions=(
            function(
                key="embed-http",
                handler="workloads.embeddings:embed_endpoint",
                container=ContainerSpec(image="web"),
                timeout=300,
                concurrency=ConcurrencySpec(max_inputs=100, target_inputs=80),
                web=WebSpec(kind="fastapi_endpoint", method="POST", docs=True, requires_proxy_auth=True),
            ),
            function(
                key="api",
                handler="workloads.webapi:app",
                container=ContainerSpec(
                    image="web",
                    cpu=1.0,
                    memory=1024,
                    env={"NOTES_DICT": "notes-api-store"},
                    scaling=ScalingSpec(max_containers=5, scaledown_window=120),
                ),
                timeout=300,
                concurrency=ConcurrencySpec(max_inputs=50),
                web=WebSpec(kind="asgi_app", label="acme-notes"),
            ),
        ),
    )


def web_with_env_from_variables() -> Blueprint:
    """The web Blueprint with env entries that came from `${VAR}`s: the Blueprint holds the
    manifest's text; the deploy side's values are in ENV_VALUES."""
    base = web()
    api = base.functions[1]
    env = {**api.container.env, "NOTES_STAGE": "${STAGE:-dev}", "NOTES_HOST": "db-${STAGE}.internal"}
    functions = (base.functions[0], replace(api, container=replace(api.container, env=env)))
    return replace(base, app="notes-api-vars", functions=functions)


# The deploy side's values of the env entries above, by Blueprint name (build_app's env_values).
ENV_VALUES = {
    "web_env_from_variables": {("functions", "api"): {"NOTES_STAGE": "prod", "NOTES_HOST": "db-prod.internal"}},
}


def shipped_blueprints() -> dict[str, Blueprint]:
    """The planned Blueprint of every shipped manifest in every environment (`chat_prod`, ...)."""
    from engine.manifest.load import discover_manifests, environments_of
    from engine.planner.plan import plan_file

    repo = Path(__file__).resolve().parents[2]
    planned = {}
    for path in discover_manifests([repo / "manifests"]):
        for env in [None, *environments_of(path)]:
            name = f"{path.stem}_{env or 'base'}".replace("-", "_").replace(".", "_")
            planned[name] = plan_file(path, env, {})
    return planned


def all_blueprints() -> dict[str, Blueprint]:
    """Hand-made Blueprints (every Modal feature the backend maps) and every shipped manifest's."""
    return {
        "vllm_server": vllm_server(),
        "pipeline": pipeline(),
        "web": web(),
        "web_env_from_variables": web_with_env_from_variables(),
        **shipped_blueprints(),
        "ordered_image_steps": ordered_image_steps(),
    }


def ordered_image_steps() -> Blueprint:
    """The seam fixture with every ordered image step: local files (copied and mounted at start)
    and build functions, which a container rebuilds without reading or importing them."""
    import sys

    from engine.planner.plan import plan_file

    project = Path(__file__).resolve().parent / "data" / "seam"
    # Building it locally imports its build function, as a deploy does; appended, not put first,
    # so the fixture's own `workloads` does not shadow the repository's (`buildsteps` is unique).
    if str(project) not in sys.path:
        sys.path.append(str(project))
    return plan_file(project / "seam-steps.yaml", None, {})
