"""vLLM: `vllm serve`, the default engine for GPU LLM services.

Image and caches follow Modal's vLLM examples: the CUDA devel image (vLLM JIT-compiles kernels
with nvcc via FlashInfer), Python added by Modal, pinned `vllm` + `huggingface-hub` installed
with uv, Xet high-performance downloads, the Hugging Face cache and vLLM's compile cache on
volumes. The pins are read from the packages' own metadata (docs/engines.md): vllm 0.33.0
requires torch==2.14.0, whose PyPI wheel is built for CUDA 13.0 (cuda-toolkit 13.0.3) and vLLM's
own kernels link libcudart.so.13, so the base is the CUDA 13.0 devel image (nvcc 13.0 for
FlashInfer's JIT); huggingface-hub 2.4.0 satisfies vllm (>=1.31.0) and the transformers it allows
(<5.21, which wants >=1.31.0,<3.0).
"""

from __future__ import annotations

from engine.blueprint.model import ImageSpec, ImageStep, SnapshotSpec
from engine.engines.common import (
    HF_CACHE,
    HF_DOWNLOAD_ENV,
    LISTEN_HOST,
    CacheVolume,
    Engine,
    LaunchParams,
    OptionFlag,
    render_options,
    served_names,
)
from engine.engines.owned_flags import FlagSyntax, OwnedFlag, option_flags

IMAGE_KEY = "vllm-default"
VERSION = "0.33.0"  # moved 2026-12-02; how to move it: docs/engines.md
CUDA_IMAGE = "nvidia/cuda:13.0.2-devel-ubuntu22.04"
PYTHON_VERSION = "3.12"
PACKAGES = (f"vllm=={VERSION}", "huggingface-hub==2.4.0")

VLLM_CACHE = CacheVolume(key="vllm-cache", name="vllm-cache", path="/root/.cache/vllm")

OPTIONS = (
    OptionFlag("max_model_len", "--max-model-len"),
    OptionFlag("gpu_memory_utilization", "--gpu-memory-utilization"),
    OptionFlag("max_num_seqs", "--max-num-seqs"),
    OptionFlag("dtype", "--dtype"),
    OptionFlag("quantization", "--quantization"),
    OptionFlag("enable_prefix_caching", "--enable-prefix-caching", boolean=True, negative="--no-enable-prefix-caching"),
)


def _sleeping(p: LaunchParams) -> bool:
    return p.sleep_mode


# Spellings from vLLM's own parser (vllm/engine/arg_utils.py, FlexibleArgumentParser): a positional
# model or --model, -tp for the tensor-parallel size, -q for quantization, --no- forms of booleans.
OWNED_FLAGS = (
    OwnedFlag(("--model",), "model.id", "the model is the positional argument"),
    OwnedFlag(("--revision",), "model.revision"),
    OwnedFlag(("--served-model-name",), "model.served_name"),
    OwnedFlag(("--host",), None, "the server listens on 0.0.0.0, where Modal's proxy reaches it"),
    OwnedFlag(("--port",), "port"),
    OwnedFlag(("--tensor-parallel-size", "-tp"), "engine_args.tensor_parallel_size"),
    OwnedFlag(("--enforce-eager", "--no-enforce-eager"), "fast_boot"),
    OwnedFlag(("--enable-sleep-mode", "--no-enable-sleep-mode"), "memory_snapshot", applies=_sleeping),
    OwnedFlag(("--api-key",), "auth.api_key_secret"),
    OwnedFlag(("-q",), "engine_args.quantization"),
    *option_flags(OPTIONS),
)


def default_image() -> ImageSpec:
    return ImageSpec(
        key=IMAGE_KEY,
        base="registry",
        python_version=PYTHON_VERSION,
        registry_ref=CUDA_IMAGE,
        clear_entrypoint=True,
        steps=(ImageStep(op="uv_pip_install", args=PACKAGES),),
    )


def launch_command(p: LaunchParams) -> tuple[str, ...]:
    argv = ["vllm", "serve", p.model]
    if p.revision:
        argv += ["--revision", p.revision]
    argv += ["--served-model-name", *served_names(p.model, p.served_name)]
    argv += ["--host", LISTEN_HOST, "--port", str(p.port)]
    argv += ["--tensor-parallel-size", str(p.tensor_parallel)]
    # Eager mode skips CUDA-graph capture and torch.compile: a much faster cold start for some
    # throughput; --no-enforce-eager spells the opposite choice out so the plan shows it.
    argv.append("--enforce-eager" if p.fast_boot else "--no-enforce-eager")
    if p.sleep_mode:
        argv.append("--enable-sleep-mode")
    argv += render_options(p.options, OPTIONS, "vllm")
    argv += p.extra_args
    return tuple(argv)


ENGINE = Engine(
    name="vllm",
    default_image=default_image,
    caches=(HF_CACHE, VLLM_CACHE),
    launch_command=launch_command,
    runtime_env=HF_DOWNLOAD_ENV,
    api_key_flag="--api-key",
    # level 1 offloads weights to CPU memory and drops the KV cache: the snapshot then holds the
    # weights in host memory and the GPU is nearly empty when Modal checkpoints it.
    snapshot=SnapshotSpec(sleep_path="/sleep?level=1", wake_path="/wake_up"),
    # /sleep and /wake_up exist only in vLLM's development server mode; one compile thread keeps
    # the process snapshot-safe (no worker pool alive across the checkpoint).
    snapshot_env={"VLLM_SERVER_DEV_MODE": "1", "TORCHINDUCTOR_COMPILE_THREADS": "1"},
    owned_flags=OWNED_FLAGS,
    flag_syntax=FlagSyntax(
        underscores_are_dashes=True,
        abbreviations=True,
        dotted_keys=True,
        short_rewrites=(("-O", "--optimization-level"),),
    ),
    version=VERSION,
)
