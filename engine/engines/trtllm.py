"""TensorRT-LLM: `trtllm-serve`, NVIDIA's OpenAI-compatible server.

Image as in Modal's TensorRT-LLM examples: CUDA devel base with Python 3.12 (TensorRT-LLM
requires it), OpenMPI (its multi-GPU launcher), `tensorrt-llm` from NVIDIA's package index
installed with pip (uv's first-index rule would refuse NVIDIA's extra index for packages PyPI
also has).

Flags are those of `trtllm-serve serve` (click options in tensorrt_llm/commands/serve.py):
`--tp_size`, `--max_batch_size`, `--max_num_tokens`, `--max_seq_len`, `--revision`, and
`--tokenizer`, which we always pass because requests fail without a tokenizer when the model
argument is not a plain Hugging Face checkout. The PyTorch backend (named explicitly: it is the
default in 1.x and we do not want a default change to switch backends under a deployed app)
loads checkpoints directly, so there is no engine build to cache; what is worth caching is the
JIT-compiled kernels (Triton, Inductor, FlashInfer), which the cache volume below holds.
"""

from __future__ import annotations

from engine.blueprint.model import ImageSpec, ImageStep
from engine.engines.common import (
    HF_CACHE,
    LISTEN_HOST,
    CacheVolume,
    Engine,
    EngineOptionError,
    LaunchParams,
    OptionFlag,
    render_options,
)

IMAGE_KEY = "trtllm-default"
CUDA_IMAGE = "nvidia/cuda:12.8.1-devel-ubuntu22.04"
PYTHON_VERSION = "3.12"
PACKAGE = "tensorrt-llm==1.2.1"
NVIDIA_INDEX = "https://pypi.nvidia.com"

TRTLLM_CACHE = CacheVolume(key="trtllm-cache", name="trtllm-cache", path="/root/.cache/trtllm")

OPTIONS = (
    OptionFlag("max_batch_size", "--max_batch_size"),
    OptionFlag("max_num_tokens", "--max_num_tokens"),
    OptionFlag("max_seq_len", "--max_seq_len"),
)

# trtllm-serve takes these only through a --config YAML file, which a launch argv cannot carry.
_CONFIG_FILE_ONLY = ("dtype", "quantization")


def default_image() -> ImageSpec:
    return ImageSpec(
        key=IMAGE_KEY,
        base="registry",
        python_version=PYTHON_VERSION,
        registry_ref=CUDA_IMAGE,
        clear_entrypoint=True,
        steps=(
            ImageStep(op="apt_install", args=("openmpi-bin", "libopenmpi-dev", "git", "git-lfs")),
            ImageStep(op="pip_install", args=(PACKAGE,), extra_index_url=NVIDIA_INDEX),
            ImageStep(
                op="env",
                env={
                    "HF_XET_HIGH_PERFORMANCE": "1",
                    "TRITON_CACHE_DIR": f"{TRTLLM_CACHE.path}/triton",
                    "TORCHINDUCTOR_CACHE_DIR": f"{TRTLLM_CACHE.path}/inductor",
                    "FLASHINFER_WORKSPACE_BASE": TRTLLM_CACHE.path,
                },
            ),
        ),
    )


def launch_command(p: LaunchParams) -> tuple[str, ...]:
    for key in _CONFIG_FILE_ONLY:
        if p.options.get(key) is not None:
            raise EngineOptionError(
                key,
                f"trtllm-serve has no command-line flag for {key!r}",
                hint="use a pre-quantized checkpoint, or pass `--config FILE` in extra_args with a file in a volume",
            )
    options = {k: v for k, v in p.options.items() if k not in _CONFIG_FILE_ONLY}
    argv = ["trtllm-serve", "serve", p.model, "--tokenizer", p.model]
    if p.revision:
        argv += ["--revision", p.revision]
    argv += ["--host", LISTEN_HOST, "--port", str(p.port)]
    argv += ["--backend", "pytorch", "--tp_size", str(p.tensor_parallel)]
    argv += render_options(options, OPTIONS, "trtllm")
    argv += p.extra_args
    return tuple(argv)


ENGINE = Engine(
    name="trtllm",
    default_image=default_image,
    caches=(HF_CACHE, TRTLLM_CACHE),
    launch_command=launch_command,
    supports_fast_boot=False,
    fast_boot_default=False,
    serves_custom_name=False,  # the API reports the model argument; there is no name flag
)
