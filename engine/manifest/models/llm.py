"""`kind: llm` services: an inference engine serving one model behind an OpenAI-compatible API.

One model per engine (`VllmService`, `SglangService`, `TrtllmService`, `TransformersService`),
chosen by `engine`; they differ only in `engine_args` and in whether a GPU is required.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, field_validator, model_validator

from engine.manifest.models.base import StrictModel, fail
from engine.manifest.models.container import MAX_EXIT_GRACE_PERIOD, ContainerSettings, ServerScaling
from engine.manifest.models.engines_config import SglangArgs, TransformersArgs, TrtllmArgs, VllmArgs
from engine.manifest.models.shorthands import Duration, EnvName, Gpu, gpu_count

DEFAULT_FAST_BOOT = False
MAX_STARTUP_TIMEOUT = 24 * 3600
REVISION_PATTERN = r"^[0-9a-f]{40}$"
MODEL_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?$"
_REVISION_RE = re.compile(REVISION_PATTERN)
_MODEL_ID_RE = re.compile(MODEL_ID_PATTERN)


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
            if not _MODEL_ID_RE.match(self.id):
                raise fail("is not a Hugging Face repo id", hint='write "org/name"', at=("id",))
            if self.revision is None:
                raise fail(
                    "a hub model needs a pinned `revision`",
                    hint="add revision: <40-hex commit> (copy it from the repo's commit history on huggingface.co)",
                    at=("id",),
                )
            if not _REVISION_RE.match(self.revision):
                raise fail(
                    "revision must be a full commit hash (40 hex characters)",
                    hint="pin a commit, not a branch or tag",
                    at=("revision",),
                )
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


def _snapshot_shorthand(value: Any) -> Any:
    return {"enabled": value} if isinstance(value, bool) else value


class MemorySnapshot(StrictModel):
    """Start from a memory snapshot of a warmed-up container (Modal's low-latency pattern)."""

    enabled: Annotated[bool, Field(description="Snapshot CPU memory after start-up and warm-up.")] = True
    gpu: Annotated[bool, Field(description="Also snapshot GPU memory (Modal's experimental GPU snapshots).")] = False

    @model_validator(mode="after")
    def _check(self) -> MemorySnapshot:
        if self.gpu and not self.enabled:
            raise fail("a GPU snapshot needs the memory snapshot", hint="set enabled: true or gpu: false", at=("gpu",))
        return self


SnapshotField = Annotated[
    MemorySnapshot,
    BeforeValidator(_snapshot_shorthand, json_schema_input_type=bool | MemorySnapshot),
    Field(description="`true`, or {enabled, gpu}. Default: off."),
]


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


class Warmup(StrictModel):
    """Requests sent once the engine is ready, before the container takes traffic."""

    requests: Annotated[int | None, Field(ge=1, le=100, description="How many warm-up requests. Default: 1.")] = None


WarmupField = Annotated[
    Warmup | Literal[False] | None,
    BeforeValidator(_warmup_shorthand, json_schema_input_type=bool | Warmup | None),
    Field(
        description="`true`, `false`, or {requests: N}. Default: none, except one request before a memory snapshot; `false` means none at all."
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
    port: Annotated[int | None, Field(ge=1, le=65535, description="Port the engine listens on. Default: 8000.")] = None
    fast_boot: Annotated[
        bool, Field(description="Start faster, serve slower (vLLM: eager mode instead of CUDA graphs).")
    ] = DEFAULT_FAST_BOOT
    memory_snapshot: SnapshotField = MemorySnapshot(enabled=False)
    concurrency: Annotated[ServerConcurrency | None, Field(description="Concurrent requests per container.")] = None
    startup_timeout: Annotated[
        Duration(1, MAX_STARTUP_TIMEOUT) | None,
        Field(description='How long start-up (download, load, compile) may take. Default: "20m".'),
    ] = None
    auth: Annotated[Auth, Field(description="Who may call the service.")] = Auth()
    routing_region: Annotated[
        str | None, Field(description="Region requests enter Modal through; default: Modal's (us-east).")
    ] = None
    warmup: WarmupField = None
    scaling: Annotated[ServerScaling, Field(description="Autoscaling bounds.")] = ServerScaling()
    exit_grace_period: Annotated[
        Duration(0, MAX_EXIT_GRACE_PERIOD) | None,
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

    @model_validator(mode="after")
    def _check_tensor_parallel(self):
        args = getattr(self, "engine_args", None)
        tp = getattr(args, "tensor_parallel_size", None)
        if tp is not None and self.gpu:
            count = gpu_count(self.gpu[0])
            if tp != count:
                raise fail(
                    f"tensor_parallel_size {tp} does not match the GPU count {count}",
                    hint=f'request {tp} GPUs (e.g. "{self.gpu[0].split(":")[0]}:{tp}") or set tensor_parallel_size: {count}',
                    at=("engine_args", "tensor_parallel_size"),
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
