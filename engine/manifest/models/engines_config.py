"""Per-engine `engine_args` of an `llm` service: the launch options each engine understands,
chosen by the service's `engine`. Anything not modelled goes in `extra_args` (raw CLI flags), but a
flag that has a field here (or that the planner sets from another key) must be set through that
key, so the planner sees every value: the planner refuses it in extra_args."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from engine.manifest.models.base import StrictModel, StrTuple

# A clustered service splits one model across every GPU of every node: Modal's multi-node clusters
# go up to 64 GPUs (8 nodes of 8), so the split sizes go that far too; the product rule in
# models/llm.py (tensor x pipeline = GPUs per node x nodes) bounds each of them.
MAX_MODEL_SPLIT = 64

ExtraArgs = Annotated[
    StrTuple, Field(description='Extra command-line flags passed to the engine as they are, e.g. ["--seed", "0"].')
]
TensorParallel = Annotated[
    int | None,
    Field(
        ge=1,
        le=MAX_MODEL_SPLIT,
        description="GPUs each layer is split across; tensor x pipeline parallel must equal the GPU count x nodes. Default: the GPU count (of one node).",
    ),
]
PipelineParallel = Annotated[
    int | None,
    Field(
        ge=1,
        le=MAX_MODEL_SPLIT,
        description="Stages the layers are split into (one per node, typically); tensor x pipeline parallel must equal the GPU count x nodes. Default: `nodes`.",
    ),
]
Quantization = Annotated[str | None, Field(description='Quantization method, e.g. "fp8", "awq".', min_length=1)]
EngineConfig = Annotated[
    dict[str, Any] | None,
    Field(
        description="The engine's configuration file, as a mapping: mdeploy writes it as YAML in the container and "
        "points the engine at it (SGLang: server arguments by name, e.g. chunked_prefill_size; TensorRT-LLM: "
        "LLM-API options, e.g. build_config, kv_cache_config). Keys that another engine_args key or mdeploy "
        "sets are refused. See docs/engines.md.",
        min_length=1,
    ),
]
ModelDtype = Annotated[
    Literal["auto", "half", "float16", "bfloat16", "float", "float32"] | None,
    Field(description="Weights and activations dtype; default: the engine's (auto)."),
]


class _EngineArgs(StrictModel):
    """What every engine's options share. Flags in `extra_args` that the planner sets itself
    (the port, the tensor-parallel size, a flag a key here stands for, ...) are refused by the
    planner, which knows each engine's spellings (engine/engines/)."""


class VllmArgs(_EngineArgs):
    """Options of `vllm serve`."""

    max_model_len: Annotated[int | None, Field(ge=1, description="Longest context in tokens (prompt + output).")] = None
    gpu_memory_utilization: Annotated[
        float | None, Field(gt=0, le=1, description="Share of GPU memory vLLM may use (0 < x <= 1).")
    ] = None
    tensor_parallel_size: TensorParallel = None
    pipeline_parallel_size: PipelineParallel = None
    dtype: ModelDtype = None
    quantization: Quantization = None
    max_num_seqs: Annotated[int | None, Field(ge=1, description="Most sequences batched at once.")] = None
    enable_prefix_caching: Annotated[
        bool | None, Field(description="Reuse the KV cache of shared prompt prefixes.")
    ] = None
    extra_args: ExtraArgs = ()


class SglangArgs(_EngineArgs):
    """Options of `python -m sglang.launch_server`."""

    context_length: Annotated[int | None, Field(ge=1, description="Longest context in tokens.")] = None
    mem_fraction_static: Annotated[
        float | None, Field(gt=0, lt=1, description="Share of GPU memory for weights and KV cache (0 < x < 1).")
    ] = None
    tensor_parallel_size: TensorParallel = None
    pipeline_parallel_size: PipelineParallel = None
    dtype: ModelDtype = None
    quantization: Quantization = None
    config: EngineConfig = None
    extra_args: ExtraArgs = ()


class TrtllmArgs(_EngineArgs):
    """Options of `trtllm-serve`."""

    max_batch_size: Annotated[int | None, Field(ge=1, description="Most requests in one batch.")] = None
    max_num_tokens: Annotated[int | None, Field(ge=1, description="Most tokens in one batch.")] = None
    max_seq_len: Annotated[int | None, Field(ge=1, description="Longest sequence in tokens.")] = None
    tensor_parallel_size: TensorParallel = None
    dtype: ModelDtype = None
    quantization: Quantization = None
    config: EngineConfig = None
    extra_args: ExtraArgs = ()


class TransformersArgs(_EngineArgs):
    """Options of `transformers serve`, Hugging Face's OpenAI-compatible server (runs on CPU too:
    for small models, trying a manifest locally, and tests). It serves chat and completions only;
    serve embeddings from a function (see manifests/embeddings.yaml)."""

    device: Annotated[
        Literal["cpu", "cuda", "auto"], Field(description="Where the model runs; auto: cuda when a GPU is attached.")
    ] = "auto"
    dtype: Annotated[Literal["auto", "float32", "bfloat16", "float16"], Field(description="Weights dtype.")] = "auto"
    extra_args: ExtraArgs = ()
