"""TensorRT-LLM: `trtllm-serve`, NVIDIA's OpenAI-compatible server, with its engine build cached.

Image as in Modal's TensorRT-LLM examples: CUDA devel base with Python 3.12 (TensorRT-LLM
requires it), OpenMPI (its multi-GPU launcher), `tensorrt-llm` from NVIDIA's package index
installed with pip (uv's first-index rule would refuse NVIDIA's extra index for packages PyPI
also has).

Flags are those of `trtllm-serve serve` (click options in tensorrt_llm/commands/serve.py):
`--tp_size`, `--max_batch_size`, `--max_num_tokens`, `--max_seq_len`, `--revision`, and
`--tokenizer`, which we always pass: with a built engine as the model, requests fail without
one. We name the TensorRT backend: it compiles an engine for the GPU it runs on, which is what
TensorRT-LLM is chosen for, and the LLM API's build cache (`TLLM_LLMAPI_BUILD_CACHE=1`, root on
a volume) keeps that engine, so only the first cold start on a GPU type pays for the build.

`dtype` and `quantization` have no flags: trtllm-serve reads them from a YAML file
(`--extra_llm_api_options`, since 0.20; newer releases also call it `--config`).
A launch command cannot ship a file, so when they are set the command becomes a small `sh -c`
that writes the YAML from an environment variable and then `exec`s trtllm-serve unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.blueprint.model import ImageSpec, ImageStep
from engine.engines.common import (
    HF_CACHE,
    HF_DOWNLOAD_ENV,
    CacheVolume,
    Engine,
    LaunchParams,
    OptionFlag,
    render_options,
    serving_defaults,
)
from engine.engines.owned_flags import FlagSyntax, OwnedFlag, option_flags

IMAGE_KEY = "trtllm-default"
CUDA_IMAGE = "nvidia/cuda:12.8.1-devel-ubuntu22.04"
PYTHON_VERSION = "3.12"
PACKAGE = "tensorrt-llm==1.2.1"
NVIDIA_INDEX = "https://pypi.nvidia.com"

TRTLLM_CACHE = CacheVolume(
    key="trtllm-engines",
    name="trtllm-engines",
    path="/root/.cache/trtllm-engines",
    label="trtllm",
    variable="TLLM_LLMAPI_BUILD_CACHE_ROOT",
)
CONFIG_ENV = "MDEPLOY_TRTLLM_CONFIG"
CONFIG_PATH = "/tmp/mdeploy-trtllm-config.yaml"

OPTIONS = (
    OptionFlag("max_batch_size", "--max_batch_size"),
    OptionFlag("max_num_tokens", "--max_num_tokens"),
    OptionFlag("max_seq_len", "--max_seq_len"),
)

# trtllm-serve takes these only through its --extra_llm_api_options YAML file.
_CONFIG_FILE_ONLY = ("dtype", "quantization")


def _writes_config(p: LaunchParams) -> bool:
    return config_yaml(p.options) is not None


# Spellings from trtllm-serve's click options (tensorrt_llm/commands/serve.py): --tp_size is an
# alias of --tensor_parallel_size, --config of --extra_llm_api_options. Click takes no prefixes.
OWNED_FLAGS = (
    OwnedFlag(("--tokenizer",), "model.id", "mdeploy passes the model as its own tokenizer"),
    OwnedFlag(("--revision",), "model.revision"),
    OwnedFlag(("--host",), None, "the server listens on 0.0.0.0, where Modal's proxy reaches it"),
    OwnedFlag(("--port",), "port"),
    OwnedFlag(("--backend",), None, "mdeploy serves with the TensorRT backend (an engine built for the GPU)"),
    OwnedFlag(("--tensor_parallel_size", "--tp_size"), "engine_args.tensor_parallel_size"),
    OwnedFlag(("--extra_llm_api_options", "--config"), "engine_args.dtype", applies=_writes_config),
    *option_flags(OPTIONS),
)


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
        ),
    )


def config_yaml(options: Mapping[str, object]) -> str | None:
    """The --extra_llm_api_options file for dtype/quantization, or None when neither is set.

    `quantization` names a TensorRT-LLM QuantAlgo ("fp8" -> FP8, "w4a16_awq" -> W4A16_AWQ).
    """
    lines = []
    if options.get("dtype") is not None:
        lines.append(f"dtype: {options['dtype']}")
    if options.get("quantization") is not None:
        lines += ["quant_config:", f"  quant_algo: {str(options['quantization']).upper()}"]
    return "\n".join(lines) + "\n" if lines else None


def launch_env(p: LaunchParams) -> dict[str, str]:
    text = config_yaml(p.options)
    return {CONFIG_ENV: text} if text else {}


def launch_command(p: LaunchParams) -> tuple[str, ...]:
    options = {k: v for k, v in p.options.items() if k not in _CONFIG_FILE_ONLY}
    argv = ["trtllm-serve", "serve", p.model, "--tokenizer", p.model]
    if p.revision:
        argv += ["--revision", p.revision]
    argv += ["--host", p.host, "--port", str(p.port)]
    argv += ["--backend", "tensorrt", "--tp_size", str(p.tensor_parallel)]
    argv += render_options(options, OPTIONS, "trtllm")
    if config_yaml(p.options) is None:
        return (*argv, *p.extra_args)
    argv += ["--extra_llm_api_options", CONFIG_PATH, *p.extra_args]
    # "$@" hands the real argv to exec untouched: no quoting of model ids or extra args.
    script = f'printf "%s" "${CONFIG_ENV}" > {CONFIG_PATH} && exec "$@"'
    return ("sh", "-c", script, "trtllm-serve", *argv)


ENGINE = Engine(
    name="trtllm",
    default_image=default_image,
    caches=(HF_CACHE, TRTLLM_CACHE),
    launch_command=launch_command,
    launch_env=launch_env,
    runtime_env={**HF_DOWNLOAD_ENV, "TLLM_LLMAPI_BUILD_CACHE": "1", "TLLM_LLMAPI_BUILD_CACHE_ROOT": TRTLLM_CACHE.path},
    supports_fast_boot=False,
    owned_flags=OWNED_FLAGS,
    flag_syntax=FlagSyntax(),
    setting_keys={
        "context_length": "max_seq_len",
        "max_sequences": "max_batch_size",
        "dtype": "dtype",
        "quantization": "quantization",
    },
    setting_defaults=serving_defaults(max_sequences=256, memory_utilization=0.9),
    # trtllm-serve has no served-name flag: it lists the model by its id and does not check the
    # name requests send, so clients keep using the manifest's served_name.
)
