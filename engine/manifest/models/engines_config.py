"""Per-engine `engine_args` of an `llm` service: the launch options each engine understands,
chosen by the service's `engine`. Anything not modelled goes in `extra_args` (raw CLI flags), but a
flag that has a field here must be set through the field, so the planner sees every value."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field, model_validator

from engine.manifest.models.base import StrTuple, StrictModel, fail

MAX_TENSOR_PARALLEL = 8

ExtraArgs = Annotated[
    StrTuple, Field(description='Extra command-line flags passed to the engine as they are, e.g. ["--seed", "0"].')
]
TensorParallel = Annotated[
    int | None,
    Field(ge=1, le=MAX_TENSOR_PARALLEL, description="GPUs one model is split across; must equal the service's GPU count."),
]
Quantization = Annotated[str | None, Field(description='Quantization method, e.g. "fp8", "awq".', min_length=1)]
ModelDtype = Annotated[
    Literal["auto", "half", "float16", "bfloat16", "float", "float32"] | None,
    Field(description="Weights and activations dtype; default: the engine's (auto)."),
]


class _EngineArgs(StrictModel):
    # field name -> the CLI flag it stands for, so extra_args cannot set it a second time
    FLAGS: ClassVar[dict[str, str]] = {}

    @model_validator(mode="after")
    def _no_duplicate_flags(self):
        extra = getattr(self, "extra_args", ())
        for index, arg in enumerate(extra):
            flag = arg.split("=", 1)[0]
            for field, field_flag in self.FLAGS.items():
                if flag == field_flag:
                    raise fail(f"{field_flag} has its own key", hint=f"set engine_args.{field} instead", at=("extra_args", index))
        return self


class VllmArgs(_EngineArgs):
    """Options of `vllm serve`."""

    FLAGS: ClassVar[dict[str, str]] = {
        "max_model_len": "--max-model-len",
        "gpu_memory_utilization": "--gpu-memory-utilization",
        "tensor_parallel_size": "--tensor-parallel-size",
        "dtype": "--dtype",
        "quantization": "--quantization",
        "max_num_seqs": "--max-num-seqs",
        "enable_prefix_caching": "--enable-prefix-caching",
    }

    max_model_len: Annotated[int | None, Field(ge=1, description="Longest context in tokens (prompt + output).")] = None
    gpu_memory_utilization: Annotated[
        float | None, Field(gt=0, le=1, description="Share of GPU memory vLLM may use (0 < x <= 1).")
    ] = None
    tensor_parallel_size: TensorParallel = None
    dtype: ModelDtype = None
    quantization: Quantization = None
    max_num_seqs: Annotated[int | None, Field(ge=1, description="Most sequences batched at once.")] = None
    enable_prefix_caching: Annotated[bool | None, Field(description="Reuse the KV cache of shared prompt prefixes.")] = None
    extra_args: ExtraArgs = ()


class SglangArgs(_EngineArgs):
    """Options of `python -m sglang.launch_server`."""

    FLAGS: ClassVar[dict[str, str]] = {
        "context_length": "--context-length",
        "mem_fraction_static": "--mem-fraction-static",
        "tensor_parallel_size": "--tp",
        "dtype": "--dtype",
        "quantization": "--quantization",
    }

    context_length: Annotated[int | None, Field(ge=1, description="Longest context in tokens.")] = None
    mem_fraction_static: Annotated[
        float | None, Field(gt=0, lt=1, description="Share of GPU memory for weights and KV cache (0 < x < 1).")
    ] = None
    tensor_parallel_size: TensorParallel = None
    dtype: ModelDtype = None
    quantization: Quantization = None
    extra_args: ExtraArgs = ()


class TrtllmArgs(_EngineArgs):
    """Options of `trtllm-serve`."""

    FLAGS: ClassVar[dict[str, str]] = {
        "max_batch_size": "--max_batch_size",
        "max_num_tokens": "--max_num_tokens",
        "max_seq_len": "--max_seq_len",
        "tensor_parallel_size": "--tp_size",
    }

    max_batch_size: Annotated[int | None, Field(ge=1, description="Most requests in one batch.")] = None
    max_num_tokens: Annotated[int | None, Field(ge=1, description="Most tokens in one batch.")] = None
    max_seq_len: Annotated[int | None, Field(ge=1, description="Longest sequence in tokens.")] = None
    tensor_parallel_size: TensorParallel = None
    dtype: ModelDtype = None
    quantization: Quantization = None
    extra_args: ExtraArgs = ()


class TransformersArgs(_EngineArgs):
    """Options of `transformers serve`, Hugging Face's OpenAI-compatible server (runs on CPU too:
    for small models, trying a manifest locally, and tests). It serves chat and completions only;
    serve embeddings from a function (see manifests/embeddings.yaml)."""

    device: Annotated[Literal["cpu", "cuda", "auto"], Field(description="Where the model runs; auto: cuda when a GPU is attached.")] = "auto"
    dtype: Annotated[Literal["auto", "float32", "bfloat16", "float16"], Field(description="Weights dtype.")] = "auto"
    extra_args: ExtraArgs = ()
