"""The Blueprint: every Modal object an app will hold, fully resolved.

The Blueprint is the contract between the planner and everything downstream: the Modal backend
(locally and inside the container), the plan/diff/cost renderers, the local runner and eject all
read it and nothing else. So every value a backend needs is decided here, explicitly — no
backend applies a default or re-reads a manifest. If two backends disagree about a value, the bug
is that it was decided outside the planner.

Pure data: frozen standard-library dataclasses, JSON round-trippable (see `codec.py`). This module
is on the container's import path; it must stay standard-library only.

Conventions:
- durations are whole seconds (`int`), memory is MiB, GPU requests are Modal strings ("H100:2");
- references between objects use the manifest's local keys (`ContainerSpec.secrets` holds keys of
  `Blueprint.secrets`), never Modal names, so renaming a Modal object is a one-line diff;
- lists that Modal treats as sets are kept in manifest order (order is part of determinism).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# 2: a server's engine facts (revision, served names, host, parallelism, serving limits, dtype,
# quantization, GPU need, run-time env) are fields; `command` is derived from them.
BLUEPRINT_VERSION = 2


# ---------------------------------------------------------------------------------------------
# The closed sets of strings some fields take. Each is spelled here once; the planner writes these
# values and every backend compares against them, and the codec refuses any other value.

ImageBase = Literal["debian_slim", "registry"]
ImageOp = Literal[
    "apt_install",
    "pip_install",
    "uv_pip_install",
    "run_commands",
    "env",
    "workdir",
    "add_local_python_source",
    "add_local_file",
    "add_local_dir",
    "run_function",
]
# The steps that put project files into the image (not a build step: see ImageStep).
LocalFileOp = Literal["add_local_file", "add_local_dir"]
LOCAL_FILE_OPS: tuple[LocalFileOp, ...] = ("add_local_file", "add_local_dir")
MountKind = Literal["volume", "bucket"]
CacheState = Literal["volume", "user", "off"]
Cloud = Literal["aws", "gcp", "oci", "auto"]
ScheduleKind = Literal["cron", "period"]
WebKind = Literal["fastapi_endpoint", "asgi_app", "wsgi_app", "web_server"]
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
EngineName = Literal["vllm", "sglang", "trtllm", "transformers"]
ServerKind = Literal["llm", "server"]
ClassParameterType = Literal["str", "int", "bool", "bytes"]


# ---------------------------------------------------------------------------------------------
# Images


# The handler of the function the planner adds to fetch every used hub model into its cache
# volume (engine/runtime/prefetch.py): renderers and eject recognise that function by it.
PREFETCH_HANDLER = "engine.runtime.prefetch:prefetch_models"


@dataclass(frozen=True)
class ImageStep:
    """One image build step, applied in order; `op` names the `modal.Image` method it becomes.

    ops: "apt_install" (args = packages), "pip_install" / "uv_pip_install" (args = requirement
    specifiers; `index_url` / `extra_index_url` optional), "run_commands" (args = shell commands),
    "env" (`env`), "workdir" (args = (path,)), "add_local_python_source" (args = module names;
    always the last steps, as Modal requires of non-copied local files).
    pip steps also take `find_links` and `pre` (pre-releases).
    "add_local_file" / "add_local_dir": args = (path relative to the project root, container path);
    `copy` bakes the files into a layer (the planner sets it when a build step follows, which Modal
    requires); `ignore` (dirs): dockerignore-style patterns.
    "run_function": args = (handler "package.module:attr",), run while building with `gpu`,
    `cpu`, `memory` (MiB), `secrets` (keys of `Blueprint.secrets`), `env` (what the function sees,
    MDEPLOY_MODEL_<KEY> of its `models` included), `mounts` (volumes mounted while it runs: its
    own and its models' cache volumes) and `timeout` (seconds).
    """

    op: ImageOp
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    index_url: str | None = None
    extra_index_url: str | None = None
    find_links: str | None = None
    pre: bool = False
    copy: bool = False
    ignore: tuple[str, ...] = ()
    gpu: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    timeout: int | None = None
    cpu: float | None = None
    memory: int | None = None
    mounts: tuple[MountSpec, ...] = ()
    models: tuple[str, ...] = ()  # keys of Blueprint.models the function reads


@dataclass(frozen=True)
class ImageSpec:
    """A container image: a base, then `steps` in order.

    base "debian_slim": `modal.Image.debian_slim(python_version=python_version)`.
    base "registry": `modal.Image.from_registry(registry_ref, add_python=python_version)`, with
    `.entrypoint([])` first when `clear_entrypoint` (NVIDIA images print a banner otherwise).
    """

    key: str
    base: ImageBase
    python_version: str | None
    registry_ref: str | None = None
    clear_entrypoint: bool = False
    steps: tuple[ImageStep, ...] = ()


# ---------------------------------------------------------------------------------------------
# Storage and named objects


@dataclass(frozen=True)
class VolumeSpec:
    key: str
    name: str
    create_if_missing: bool = True


@dataclass(frozen=True)
class SecretSpec:
    """A Modal secret by name; `required_keys` are checked by Modal when the secret is attached."""

    key: str
    name: str
    required_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class DictSpec:
    key: str
    name: str
    # False: the dict must exist already; the first access from a container fails otherwise
    # (Dict.from_name(create_if_missing=False)).
    create_if_missing: bool = True


@dataclass(frozen=True)
class QueueSpec:
    key: str
    name: str
    create_if_missing: bool = True  # as DictSpec's


@dataclass(frozen=True)
class BucketSpec:
    """A cloud bucket mount (`modal.CloudBucketMount`); `secret` is a key of `Blueprint.secrets`."""

    key: str
    bucket_name: str
    secret: str | None = None
    read_only: bool = False
    key_prefix: str | None = None
    bucket_endpoint_url: str | None = None
    requester_pays: bool = False


@dataclass(frozen=True)
class MountSpec:
    """A mount point in a container: `kind` "volume" (key of volumes) or "bucket" (key of buckets)."""

    path: str
    kind: MountKind
    source: str


@dataclass(frozen=True)
class CacheSpec:
    """An engine cache of a server that the manifest changed (`caches:`) or filled with its own
    volume; caches it leaves alone are plain engine mounts in `container.mounts`.

    `state`: "volume" (the engine's cache volume, `volume` its key in `volumes`, at `path`),
    "user" (the manifest's own volume `volume`, mounted at `path`, serves as the cache) or "off"
    (no volume, no mount: the engine fills the folder again on every cold start)."""

    name: str  # the engine's name of the cache, the key under `caches:`
    state: CacheState
    path: str
    volume: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A `models` entry: pinned weights, read from a cache volume or from an image that holds
    them, found by their users through `env`.

    Where the weights are is decided once, by the planner, and recorded here, so that no backend
    infers it from a path or a mount:
    - `images`: the keys of the images (of Blueprint.images) that hold a hub model, fetched in
      while they build, by a `- models:` build step or before a `run_function` step that reads it,
      in manifest order. A user on one of these images reads the weights from the image, below
      BUILD_MODEL_ROOT (planner/defaults.py), and mounts nothing for it; () for a path model.
    - `volume`: the key of Blueprint.volumes that users read the weights from (a path model's
      always); None when every user reads them from an image of `images` (the manifest may then
      leave the entry's `volume:` out). A model nothing uses keeps the entry's volume, if any.

    `folder` is where the weights lie below the root they are read from (the volume's, or
    BUILD_MODEL_ROOT in an image): for a hub model huggingface_hub's cache layout,
    `hub/models--ORG--NAME/snapshots/REVISION` (what `snapshot_download(cache_dir=ROOT/hub)`
    writes, and where an engine with HF_HOME at the volume finds it); for a path model the path.
    Each user's container mounts the volume (or runs on the image) and sets `env` to that root +
    "/" + folder. `used_by` is "functions.KEY", "servers.KEY" or "images.KEY" (build steps), in
    plan order.
    """

    key: str
    volume: str | None
    folder: str
    env: str
    repo: str | None = None  # a Hugging Face repo id; None for a path model
    revision: str | None = None  # the pinned commit of `repo`
    allow_patterns: tuple[str, ...] = ()  # only these files are fetched; () all
    secret: str | None = None  # key of Blueprint.secrets that can read the repo
    used_by: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # keys of Blueprint.images that hold the weights (see above)


# ---------------------------------------------------------------------------------------------
# What every container has


@dataclass(frozen=True)
class ScalingSpec:
    """Autoscaler settings, all explicit. `max_containers` None means no limit.

    `scaleup_window` (seconds of sustained demand before another container starts) is for servers
    only: `app.function` has no such parameter, so a function's is always None (Modal's default).
    """

    min_containers: int = 0
    max_containers: int | None = None
    buffer_containers: int = 0
    scaledown_window: int = 60
    scaleup_window: int | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """Settings shared by functions and servers: what runs where, with which resources."""

    image: str  # key of Blueprint.images
    gpu: tuple[str, ...] = ()  # () no GPU; one entry, or a fallback list in preference order
    cpu: float | None = None
    memory: int | None = None  # MiB
    ephemeral_disk: int | None = None  # MiB
    region: tuple[str, ...] = ()
    cloud: Cloud | None = None
    secrets: tuple[str, ...] = ()  # keys of Blueprint.secrets
    env: dict[str, str] = field(default_factory=dict)
    mounts: tuple[MountSpec, ...] = ()
    scaling: ScalingSpec = field(default_factory=ScalingSpec)
    enable_memory_snapshot: bool = False
    gpu_snapshot: bool = False  # experimental_options={"enable_gpu_snapshot": True}
    nonpreemptible: bool = False


# ---------------------------------------------------------------------------------------------
# Functions


@dataclass(frozen=True)
class RetrySpec:
    max_retries: int
    backoff_coefficient: float = 2.0
    initial_delay: float = 1.0  # seconds
    max_delay: float = 60.0  # seconds


@dataclass(frozen=True)
class ScheduleSpec:
    """`kind` "cron" (`cron`, `timezone`) or "period" (`seconds`)."""

    kind: ScheduleKind
    cron: str | None = None
    timezone: str | None = None
    seconds: int | None = None


@dataclass(frozen=True)
class ConcurrencySpec:
    """`@modal.concurrent(max_inputs=..., target_inputs=...)`."""

    max_inputs: int
    target_inputs: int | None = None


@dataclass(frozen=True)
class BatchingSpec:
    """`@modal.batched(max_batch_size=..., wait_ms=...)`."""

    max_batch_size: int
    wait_ms: int


@dataclass(frozen=True)
class WebSpec:
    """How a function is exposed over HTTP.

    kind: "fastapi_endpoint" (`method`, `docs`), "asgi_app", "wsgi_app", or "web_server" (`port`,
    `startup_timeout`). `requires_proxy_auth` turns on Modal proxy auth; `label` fixes the URL.
    """

    kind: WebKind
    method: HttpMethod | None = None
    docs: bool = False
    port: int | None = None
    startup_timeout: int | None = None
    requires_proxy_auth: bool = False
    label: str | None = None


@dataclass(frozen=True)
class BatchedMethodSpec:
    """A method of a class under `@modal.batched(max_batch_size=..., wait_ms=...)`."""

    name: str
    max_batch_size: int
    wait_ms: int


@dataclass(frozen=True)
class ClassParameterSpec:
    """`name: type = modal.parameter(default=...)` on the Modal class: callers bind it when they
    make an instance, and the user's class receives it as the keyword argument `name`.
    `default` None: no default, every caller gives it; a bytes default is its UTF-8 text."""

    name: str
    type: ClassParameterType
    default: str | int | bool | None = None

    @property
    def python_default(self) -> str | int | bool | bytes | None:
        """The default as the Modal class declares it: a bytes one is its text's UTF-8 bytes."""
        if self.type == "bytes" and isinstance(self.default, str):
            return self.default.encode("utf-8")
        return self.default


@dataclass(frozen=True)
class ClassSpec:
    """What makes a function an `@app.cls`: its `handler` names a class of the user's code.

    One instance per container, made with `parameters` as keyword arguments by the first enter
    method. Without a memory snapshot (ContainerSpec.enable_memory_snapshot) that is the one
    `@modal.enter()` method, which then calls `enter` in order. With one, a `@modal.enter(snap=True)`
    method makes the instance and calls `before_snapshot` in order (restored containers skip it),
    and the `@modal.enter(snap=False)` method calls `enter` in every container after its restore.
    The one `@modal.exit` method calls `exit` in order. `methods` become `@modal.method`s,
    `batched` (at most one, and then no `methods`: Modal's rule) `@modal.batched`.
    `startup_timeout` bounds the enter hooks; None: Modal uses the timeout.
    """

    methods: tuple[str, ...] = ()
    enter: tuple[str, ...] = ()
    exit: tuple[str, ...] = ()
    batched: tuple[BatchedMethodSpec, ...] = ()
    startup_timeout: int | None = None
    before_snapshot: tuple[str, ...] = ()  # only with ContainerSpec.enable_memory_snapshot
    parameters: tuple[ClassParameterSpec, ...] = ()


@dataclass(frozen=True)
class FunctionSpec:
    """An `@app.function` that imports and calls `handler` ("package.module:attr").

    `timeout` is here and not in ContainerSpec because only functions have one: `app.server`
    takes no timeout, so a server's Blueprint says nothing it could not send.
    """

    key: str  # the manifest's name for it
    symbol: str  # Python identifier bound in the entry module's globals
    name: str  # Modal function name
    handler: str
    container: ContainerSpec
    timeout: int = 300  # seconds one input may run before Modal stops it
    retries: RetrySpec | None = None
    schedule: ScheduleSpec | None = None
    concurrency: ConcurrencySpec | None = None
    batching: BatchingSpec | None = None
    web: WebSpec | None = None
    max_inputs: int | None = None  # inputs per container before it is replaced
    routing_region: str | None = None  # where inputs enter Modal; None: Modal's choice
    models: tuple[str, ...] = ()  # keys of Blueprint.models the handler loads (mounted, env set)
    # Set: `handler` is a class deployed with `app.cls` (then schedule, batching and web are
    # None; `name` is the class name, which is what Modal names a class by).
    cls: ClassSpec | None = None


# ---------------------------------------------------------------------------------------------
# Servers (LLM services and `kind: server`)


@dataclass(frozen=True)
class AdapterSpec:
    """A LoRA adapter an llm server loads at start and serves under `name` (clients send it as
    "model"): the weights of `models` entry `model`, at `path` in the server's container (the
    pinned snapshot in the entry's mounted cache volume)."""

    name: str
    model: str  # key of Blueprint.models
    path: str


@dataclass(frozen=True)
class SecretArg:
    """A launch argument whose value is read from the environment at launch time, never stored.

    The process gets `flag` followed by the value of the environment variable `env` (which a
    secret provides). This keeps secret values out of the Blueprint and out of every plan.
    """

    flag: str
    env: str


@dataclass(frozen=True)
class WarmupSpec:
    """Requests sent after readiness, before the container takes traffic (or is snapshotted)."""

    path: str
    body: str  # JSON text of the request body; "" for none
    requests: int = 1
    method: HttpMethod = "POST"
    status: int | None = None  # the status each request must answer; None: any 2xx
    fatal: bool = True  # False: a failed warm-up is logged and the container serves anyway


@dataclass(frozen=True)
class SnapshotSpec:
    """Modal's low-latency pattern: start in a `snap=True` enter with the engine's sleep mode on,
    warm up, put the engine to sleep (`sleep_path`), snapshot; wake it in `snap=False` enter."""

    sleep_path: str
    wake_path: str


@dataclass(frozen=True)
class ClusterSpec:
    """`@modal.clustered(size=nodes, rdma=rdma)`: one replica of the server spans `nodes`
    containers, which Modal schedules together; requests reach rank 0 only.

    Every container runs `command` followed by `rank_args`, in which the container fills in
    "{rank}" (its rank in the cluster) and "{leader}" (rank 0's address) when it starts; ranks
    other than 0 serve no HTTP, add `worker_args`, and do not wait for the health path. Both are
    written by the engine's module, like the command.
    """

    nodes: int
    rdma: bool = False
    rank_args: tuple[str, ...] = ()
    worker_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerSpec:
    """An `@app.server` class that runs `command` in `@modal.enter` and serves `port`."""

    key: str
    symbol: str  # class name, a Python identifier bound in the entry module's globals
    name: str  # Modal server name
    engine: EngineName | Literal[""]  # "" for `kind: server`, which has no engine
    model: str  # model id or path, as served
    served_model_name: str
    container: ContainerSpec
    command: tuple[str, ...]  # derived from the fields below by the engine's module, and only there
    port: int = 8000
    # What the engine is told, decided once by the planner. Backends read these, never `command`
    # (whose flag spellings only engine/engines/ knows).
    revision: str | None = None  # a pinned commit; None for a model path
    served_names: tuple[str, ...] = ()  # every name the server answers to as "model"
    host: str = "0.0.0.0"
    tensor_parallel_size: int = 1
    pipeline_parallel_size: int = 1  # stages; tensor x pipeline = GPUs per container x nodes
    context_length: int | None = None  # tokens; None: the model's own maximum
    max_sequences: int = 256  # sequences batched at once
    memory_utilization: float = 0.9  # share of each GPU's memory the engine takes
    dtype: str = "auto"  # "auto": the checkpoint's dtype
    quantization: str | None = None
    kv_cache_dtype: str = "auto"  # "auto": the dtype of the weights as served
    # Which of the serving settings above are the engine's own defaults, which the command leaves
    # to the engine (the rest are passed to it).
    engine_defaults: tuple[str, ...] = ()
    fast_boot: bool = False  # the engine's eager / fast-start mode
    engine_options: dict[str, str] = field(default_factory=dict)  # other engine_args, as the engine reads them
    extra_args: tuple[str, ...] = ()  # passed as they are, after everything else
    needs_gpu: bool = True
    engine_env: dict[str, str] = field(default_factory=dict)  # env the engine needs (also in container.env)
    startup_timeout: int = 600
    health_path: str = "/health"
    target_concurrency: int | None = None
    max_concurrency: int | None = None
    secret_args: tuple[SecretArg, ...] = ()
    warmup: WarmupSpec | None = None
    snapshot: SnapshotSpec | None = None
    requires_proxy_auth: bool = False
    routing_region: str | None = None
    exit_grace_period: int = 0  # seconds a draining container may finish in-flight requests
    h2_enabled: bool = False  # HTTP/2 from clients
    # "llm": an engine serving `model`; "server" (`kind: server`): the manifest's own command, with
    # `engine` and `model` empty and none of the engine facts above used.
    kind: ServerKind = "llm"
    # A server's command as the manifest wrote it, `${PORT}`/`${HOST}` unfilled: `command` is it
    # filled for the container (engine/blueprint/server_command.py); the local runner fills it
    # with its own address. Empty for llm servers, whose command the engine derives.
    command_template: tuple[str, ...] = ()
    ready_on_any_answer: bool = False  # readiness: any HTTP answer at health_path, not only a 2xx
    cluster: ClusterSpec | None = None  # None: one container per replica
    # LoRA adapters the engine loads beside `model` (`adapters:`); their names are in served_names.
    lora_adapters: tuple[AdapterSpec, ...] = ()
    caches: tuple[CacheSpec, ...] = ()  # engine caches the manifest changed or serves itself


# ---------------------------------------------------------------------------------------------
# The whole app


@dataclass(frozen=True)
class Blueprint:
    app: str
    environment: str
    source: str  # the manifest path as given (posix), for humans; never re-read
    images: tuple[ImageSpec, ...] = ()
    volumes: tuple[VolumeSpec, ...] = ()
    secrets: tuple[SecretSpec, ...] = ()
    dicts: tuple[DictSpec, ...] = ()
    queues: tuple[QueueSpec, ...] = ()
    buckets: tuple[BucketSpec, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()
    servers: tuple[ServerSpec, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)  # modal.App(tags=...)
    models: tuple[ModelSpec, ...] = ()  # pinned weights the app's objects use (`models:`)
    version: int = BLUEPRINT_VERSION
