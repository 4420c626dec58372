"""`kind: llm` services: an inference engine serving one model behind an OpenAI-compatible API.

One model per engine (`VllmService`, `SglangService`, `TrtllmService`, `TransformersService`),
chosen by `engine`; they differ only in `engine_args` and in whether a GPU is required.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from engine.manifest.models.adapters import AdaptersField, check_adapters
from engine.manifest.models.base import StrictModel, fail
from engine.manifest.models.caches import CacheSettings
from engine.manifest.models.container import MAX_EXIT_GRACE_PERIOD, ContainerSettings, ServerScaling
from engine.manifest.models.engines_config import SglangArgs, TransformersArgs, TrtllmArgs, VllmArgs
from engine.manifest.models.shorthands import DurationSeconds, EnvName, Gpu, gpu_count
from engine.manifest.models.snapshots import MemorySnapshot, SnapshotField

DEFAULT_FAST_BOOT = False
MAX_STARTUP_TIMEOUT = 24 * 3600
REVISION_PATTERN = r"^[0-9a-f]{40}$"
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$"
_REVISION_RE = re.compile(REVISION_PATTERN)
_MODEL_ID_RE = re.compile(MODEL_ID_PATTERN)


def check_hub_pin(model_id: str, revision: str | None) -> None:
    """A Hub model is an `org/name` id pinned to a commit: the same rule for a service's model,
    a `models:` entry and an adapter, each failing at the key (`id` or `revision`) at fault."""
    if not _MODEL_ID_RE.match(model_id):
        raise fail("is not a Hugging Face repo id", hint='write "org/name"', at=("id",))
    if revision is None:
        raise fail(
            "a hub model needs a pinned `revision`",
            hint="add revision: <40-hex commit> (copy it from the repo's commit history on huggingface.co)",
            at=("id",),
        )
    if not _REVISION_RE.match(revision):
        raise fail(
            "revision must be a full commit hash (40 hex characters)",
            hint="pin a commit, not a branch or tag",
            at=("revision",),
        )


class ModelSource(StrictModel):
    """Which weights to serve: a Hugging Face repo pinned to a commit, or a path."""

    id: Annotated[str | None, Field(description='Hugging Face repo id, e.g. "meta-llama/Llama-3.1-8B-Instruct".')] = (
        None
    )
    revision: Annotated[
        str | None,
        Field(
            description="The repo commit to serve (40 hex characters). Required with `id`: a branch can change under a deployed service."
        ),
    ] = None
    path: Annotated[
        str | None,
        Field(
            description="Weights already on disk: a path in a mounted volume (or a local folder for local runs).",
            min_length=1,
        ),
    ] = None
    served_name: Annotated[
        str | None, Field(description="The model name clients send; default: the id (or the path).", min_length=1)
    ] = None

    @model_validator(mode="after")
    def _check(self) -> ModelSource:
        if (self.id is None) == (self.path is None):
            raise fail(
                "set exactly one of `id` (a Hugging Face repo) or `path` (weights on disk)",
                hint="e.g. id: meta-llama/Llama-3.1-8B-Instruct",
            )
        if self.id is not None:
            check_hub_pin(self.id, self.revision)
        elif self.revision is not None:
            raise fail(
                "revision applies to hub models only", hint="remove it, or use `id` instead of `path`", at=("revision",)
            )
        if self.path is not None and ".." in re.split(r"[/\\]", self.path):
            raise fail(
                "a model path cannot contain '..'",
                hint="write the folder it means: an absolute path in a mounted volume, or a folder below the one you run mdeploy in",
                at=("path",),
            )
        return self

    @property
    def name(self) -> str:
        """The id or path, as the engine loads it."""
        return self.id if self.id is not None else self.path  # type: ignore[return-value]


def _model_form(value: Any) -> str:
    # Text is a key of the top-level `models` section; anything else is the inline form (whose
    # errors are then the inline form's, not a union's two sets).
    return "key" if isinstance(value, str) else "source"


def model_split(gpus: int, nodes: int, tp: int | None, pp: int | None) -> tuple[int, int] | None:
    """(tensor, pipeline) parallel sizes of a model on `nodes` nodes of `gpus` GPUs each, or None
    when the sizes given cannot split it. Every GPU of every node holds a part of the model, so
    tensor x pipeline = gpus x nodes (vLLM's and SGLang's world size). Neither given: one pipeline
    stage per node, tensor parallelism across each node's GPUs (layers split within a node, where
    GPUs talk over NVLink; only activations cross the slower network between nodes). One given:
    the other is what it leaves, except that one node gets no pipeline unless asked for one."""
    total = gpus * nodes
    if tp is None and pp is None:
        return gpus, nodes
    if pp is None:
        assert tp is not None
        pp = total // tp if nodes > 1 and total % tp == 0 else 1
    if tp is None:
        if total % pp:
            return None
        tp = total // pp
    return (tp, pp) if tp * pp == total else None


class Auth(StrictModel):
    """Who may call the service: Modal proxy auth (Modal-Key/Modal-Secret headers), an API key the
    engine checks, or both. Proxy auth is on unless turned off (the planner decides): a GPU endpoint
    should not be public by accident."""

    proxy: Annotated[
        bool | None,
        Field(description="Require Modal proxy auth tokens. Default: on (set false for a public endpoint)."),
    ] = None
    api_key_secret: Annotated[
        str | None, Field(description="Key of `secrets` holding the API key clients must send (Bearer token).")
    ] = None
    api_key_env: Annotated[
        EnvName | None, Field(description="Variable of that secret holding the key. Default: API_KEY.")
    ] = None


class ServerConcurrency(StrictModel):
    """Concurrent requests per container (`app.server(target_concurrency, max_concurrency)`)."""

    target: Annotated[int | None, Field(ge=1, description="Requests per container the autoscaler aims for.")] = None
    max: Annotated[int | None, Field(ge=1, description="Requests per container beyond which new ones queue.")] = None

    @model_validator(mode="after")
    def _check(self) -> ServerConcurrency:
        if self.target is not None and self.max is not None and self.target > self.max:
            raise fail(
                f"target ({self.target}) is above max ({self.max})",
                hint="the target must not exceed the limit",
                at=("target",),
            )
        return self


def _warmup_shorthand(value: Any) -> Any:
    # `false` stays False: "no warm-up, even for a snapshot", unlike leaving the key out.
    return {} if value is True else value


WARMUP_PATH_PATTERN = r"^/"
JsonBody = dict[str, Any] | list[Any]


class Warmup(StrictModel):
    """Requests sent once the server is ready, before the container takes traffic. An llm service
    sends a tiny chat completion unless `path`/`body` say otherwise; a server has no default
    request, so it needs a `path`."""

    requests: Annotated[int | None, Field(ge=1, le=100, description="How many warm-up requests. Default: 1.")] = None
    path: Annotated[
        str | None,
        Field(
            pattern=WARMUP_PATH_PATTERN,
            description='Path the requests go to, e.g. "/embed". Default (llm services): the chat completions path.',
        ),
    ] = None
    method: Annotated[
        Literal["GET", "POST"] | None,
        Field(description="HTTP method. Default: POST with a body (llm services: the chat request), else GET."),
    ] = None
    body: Annotated[
        JsonBody | None,
        Field(
            description="JSON body of each request (a mapping or a list). Default (llm services): a tiny chat request."
        ),
    ] = None
    status: Annotated[
        int | None,
        Field(ge=100, le=599, description="The status each request must answer. Default: any 2xx."),
    ] = None
    fatal: Annotated[
        bool | None,
        Field(
            description="A failed warm-up fails the container's start (Modal starts another). `false`: logged, and the container serves anyway. Default: true."
        ),
    ] = None

    @model_validator(mode="after")
    def _check(self) -> Warmup:
        if self.method == "GET" and self.body is not None:
            raise fail("a GET warm-up sends no body", hint="remove `body` or use method: POST", at=("body",))
        return self


WarmupField = Annotated[
    Warmup | Literal[False] | None,
    BeforeValidator(_warmup_shorthand, json_schema_input_type=bool | Warmup | None),
    Field(
        description="`true`, `false`, or {requests, path, method, body, status, fatal}. Default: none, except (llm services) one request before a memory snapshot; `false` means none at all."
    ),
]


def refuse_server_timeout(value: Any) -> Any:
    """An llm service runs in Modal's `app.server`, which has no `timeout` parameter: the value
    would reach nothing. Called only for a value the manifest gives (defaults are not validated)."""
    raise fail(
        "an llm service takes no timeout: Modal's app.server has no such parameter, so the value "
        "would be dropped and Modal's own limits would apply",
        hint="remove it; startup_timeout bounds start-up, and a request's length is bounded by its "
        "caller (the client's timeout, the request's max_tokens)",
    )


class _LlmService(ContainerSettings):
    kind: Annotated[Literal["llm"], Field(description="An inference engine serving one model.")]
    model: Annotated[
        Annotated[ModelSource, Tag("source")] | Annotated[str, Tag("key")],
        Discriminator(_model_form),
        Field(description="The weights to serve: {id, revision} or {path}, or the key of a `models` entry."),
    ]
    adapters: AdaptersField = ()
    port: Annotated[int | None, Field(ge=1, le=65535, description="Port the engine listens on. Default: 8000.")] = None
    fast_boot: Annotated[
        bool, Field(description="Start faster, serve slower (vLLM: eager mode instead of CUDA graphs).")
    ] = DEFAULT_FAST_BOOT
    memory_snapshot: SnapshotField = MemorySnapshot(enabled=False)
    concurrency: Annotated[ServerConcurrency | None, Field(description="Concurrent requests per container.")] = None
    startup_timeout: Annotated[
        Annotated[int, DurationSeconds(1, MAX_STARTUP_TIMEOUT)] | None,
        Field(description='How long start-up (download, load, compile) may take. Default: "20m".'),
    ] = None
    auth: Annotated[Auth, Field(description="Who may call the service.")] = Auth()
    routing_region: Annotated[
        str | None, Field(description="Region requests enter Modal through; default: Modal's (us-east).")
    ] = None
    warmup: WarmupField = None
    scaling: Annotated[ServerScaling, Field(description="Autoscaling bounds.")] = ServerScaling()
    exit_grace_period: Annotated[
        Annotated[int, DurationSeconds(0, MAX_EXIT_GRACE_PERIOD)] | None,
        Field(
            description='How long a draining container may finish in-flight requests before Modal stops it, e.g. "20s" (0 s to 1 h). Default: 5 s; large MoE servers want 15-25 s.'
        ),
    ] = None
    http2: Annotated[
        bool, Field(description="Accept HTTP/2 from clients (`app.server(h2_enabled=True)`). Default: off (HTTP/1.1).")
    ] = False
    timeout: Annotated[
        None,
        Field(
            description="Not accepted: `app.server` has no timeout (see startup_timeout); `defaults.timeout` does not apply either."
        ),
    ] = None

    # Replaces ContainerSettings' validator of the same name: any timeout at all is refused here.
    _timeout_not_null = field_validator("timeout", mode="before")(refuse_server_timeout)

    nodes: Annotated[
        int,
        Field(
            ge=1,
            description="Containers (nodes) one replica of the model spans: `@modal.clustered(size=nodes)`. Default: 1. vLLM and SGLang only; each node gets `gpu`.",
        ),
    ] = 1
    rdma: Annotated[
        bool,
        Field(
            description="Ask Modal for RDMA networking between the nodes (`@modal.clustered(rdma=True)`); needs `nodes` above 1. Default: off (the private IPv6 network only)."
        ),
    ] = False
    caches: CacheSettings = {}

    @model_validator(mode="after")
    def _check_tensor_parallel(self) -> _LlmService:
        args = getattr(self, "engine_args", None)
        tp = getattr(args, "tensor_parallel_size", None)
        pp = getattr(args, "pipeline_parallel_size", None)
        if (tp is None and pp is None) or not self.gpu:
            return self
        count = gpu_count(self.gpu[0])
        if model_split(count, self.nodes, tp, pp) is not None:
            return self
        kind = self.gpu[0].split(":")[0]
        if pp is None and self.nodes == 1:
            raise fail(
                f"tensor_parallel_size {tp} does not match the GPU count {count}",
                hint=f'request {tp} GPUs (e.g. "{kind}:{tp}") or set tensor_parallel_size: {count}',
                at=("engine_args", "tensor_parallel_size"),
            )
        total = count * self.nodes
        written = " x ".join(
            f"{name} {value}" for name, value in (("tensor_parallel_size", tp), ("pipeline_parallel_size", pp)) if value
        )
        raise fail(
            f"{written} does not split the model across the GPU count x nodes ({count} x {self.nodes} = {total}): "
            "tensor x pipeline parallel must equal it",
            hint=f"e.g. tensor_parallel_size: {count} with pipeline_parallel_size: {self.nodes}",
            at=("engine_args", "tensor_parallel_size" if tp is not None else "pipeline_parallel_size"),
        )

    @model_validator(mode="after")
    def _check_adapters(self) -> _LlmService:
        check_adapters(self.adapters)
        return self

    @model_validator(mode="after")
    def _check_nodes(self) -> _LlmService:
        if self.rdma and self.nodes == 1:
            raise fail(
                "rdma connects the nodes of a cluster, and this service runs on one",
                hint="set nodes: 2 (or more), or remove rdma",
                at=("rdma",),
            )
        if self.nodes == 1:
            return self
        # Modal counts a clustered server's containers one by one and refuses bounds that are not
        # whole clusters (modal/_functions.py: "must be a multiple of `cluster_size`").
        for name in ("min_containers", "max_containers", "buffer_containers"):
            value = getattr(self.scaling, name)
            if value and value % self.nodes:
                raise fail(
                    f"{name} ({value}) is not a whole number of clusters of {self.nodes} nodes: Modal counts a "
                    f"clustered server's containers one by one and requires a multiple of {self.nodes}",
                    hint=f"{name}: {value - value % self.nodes or self.nodes} or {value - value % self.nodes + self.nodes}",
                    at=("scaling", name),
                )
        if self.memory_snapshot.enabled:
            raise fail(
                "a memory snapshot is taken of one container, and the engine of a clustered service holds "
                "connections to the other nodes that a restored container would not have",
                hint="remove memory_snapshot, or serve on one node",
                at=("memory_snapshot",),
            )
        return self


_GpuRequired = Annotated[
    Gpu, Field(description='GPU request (required): "H100", "H100:2", "A100-80GB", or a fallback list.')
]


class VllmService(_LlmService):
    """A model served by vLLM (`vllm serve`)."""

    engine: Annotated[Literal["vllm"], Field(description="The inference engine.")]
    gpu: _GpuRequired
    engine_args: Annotated[VllmArgs, Field(description="Options of `vllm serve`.")] = VllmArgs()


class SglangService(_LlmService):
    """A model served by SGLang."""

    engine: Annotated[Literal["sglang"], Field(description="The inference engine.")]
    gpu: _GpuRequired
    engine_args: Annotated[SglangArgs, Field(description="Options of sglang.launch_server.")] = SglangArgs()


class TrtllmService(_LlmService):
    """A model served by TensorRT-LLM (`trtllm-serve`)."""

    engine: Annotated[Literal["trtllm"], Field(description="The inference engine.")]
    gpu: _GpuRequired
    engine_args: Annotated[TrtllmArgs, Field(description="Options of `trtllm-serve`.")] = TrtllmArgs()


class TransformersService(_LlmService):
    """A (small) model served by mdeploy's Hugging Face transformers server; GPU optional."""

    engine: Annotated[Literal["transformers"], Field(description="The inference engine.")]
    engine_args: Annotated[TransformersArgs, Field(description="Options of the transformers server.")] = (
        TransformersArgs()
    )

    @model_validator(mode="after")
    def _check_device(self) -> TransformersService:
        if self.engine_args.device == "cuda" and not self.gpu:
            raise fail("device cuda needs a GPU", hint='add gpu: "L4" or use device: cpu', at=("engine_args", "device"))
        return self


LlmService = Annotated[
    VllmService | SglangService | TrtllmService | TransformersService,
    Field(discriminator="engine"),
]
"""Any `kind: llm` service, told apart by `engine`."""
