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
(`--extra_llm_api_options`, since 0.20; newer releases also call it `--config`), as it reads every
other LLM-API option (`engine_args.config`: build config, KV cache, plugins, ...), merged with them
into one file. A launch command cannot ship a file, so when one is written the command becomes a
small `sh -c` that writes the YAML from an environment variable and then `exec`s trtllm-serve
unchanged (config_file.py).
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
from engine.engines.config_file import CONFIG_KEY, ConfigProblem, decode, did_you_mean, to_yaml, write_then_exec
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
_CONFIG_FILE_ONLY = ("dtype", "quantization", CONFIG_KEY)

# The top-level options of the LLM API with the TensorRT backend (`TrtLlmArgs`, its own fields and
# `BaseLlmArgs`'s, tensorrt_llm/llmapi/llm_args.py, 1.2.x): the keys the YAML file may set. The
# class forbids any other key, so an unknown one fails the engine's start; here it fails the plan.
LLM_API_OPTIONS = frozenset(
    {
        # BaseLlmArgs
        "model", "tokenizer", "tokenizer_mode", "custom_tokenizer", "skip_tokenizer_init", "trust_remote_code",
        "tensor_parallel_size", "dtype", "revision", "tokenizer_revision", "model_kwargs", "pipeline_parallel_size",
        "context_parallel_size", "gpus_per_node", "moe_cluster_parallel_size", "moe_tensor_parallel_size",
        "moe_expert_parallel_size", "enable_attention_dp", "enable_lm_head_tp_in_adp", "pp_partition", "cp_config",
        "load_format", "enable_lora", "lora_config", "kv_cache_config", "enable_chunked_prefill",
        "guided_decoding_backend", "iter_stats_max_iterations", "request_stats_max_iterations",
        "peft_cache_config", "scheduler_config", "cache_transceiver_config", "sparse_attention_config",
        "speculative_config", "max_batch_size", "max_input_len", "max_seq_len", "max_beam_width", "max_num_tokens",
        "gather_generation_logits", "num_postprocess_workers", "postprocess_tokenizer_dir", "reasoning_parser",
        "decoding_config", "otlp_traces_endpoint", "backend", "return_perf_metrics", "perf_metrics_max_requests",
        "orchestrator_type", "env_overrides",
        # TrtLlmArgs
        "enable_tqdm", "workspace", "enable_build_cache", "extended_runtime_perf_knob_config", "calib_config",
        "quant_config", "embedding_parallel_mode", "fast_build", "build_config", "enable_prompt_adapter",
        "max_prompt_adapter_token", "batching_type", "normalize_log_probs",
    }
)  # fmt: skip
# Options of the PyTorch backend's `TorchLlmArgs` only: named, so the error says why.
_PYTORCH_ONLY = frozenset({"cuda_graph_config", "torch_compile_config", "sampler_type"})
# Options the planner sets through a flag or a manifest key: in the file they would override it
# (trtllm-serve lays the file over its flags), behind the plan's back.
_SET_ELSEWHERE = {
    "model": "set model.id (or model.path) instead",
    "tokenizer": "mdeploy passes the model as its own tokenizer",
    "revision": "set model.revision instead",
    "backend": "mdeploy serves with the TensorRT backend (an engine built for the GPU)",
    "tensor_parallel_size": "set engine_args.tensor_parallel_size instead",
    "pipeline_parallel_size": "mdeploy splits a trtllm model by tensor parallelism only: set engine_args.tensor_parallel_size",
    "max_batch_size": "set engine_args.max_batch_size instead",
    "max_num_tokens": "set engine_args.max_num_tokens instead",
    "max_seq_len": "set engine_args.max_seq_len instead",
    "dtype": "set engine_args.dtype instead",
    "enable_build_cache": "mdeploy turns the build cache on, on the trtllm-engines volume, so cold starts reuse the engine",
}


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
    OwnedFlag(("--extra_llm_api_options", "--config"), "engine_args.config", applies=_writes_config),
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
    """The --extra_llm_api_options file: dtype, quantization and engine_args.config, or None when
    none is set.

    `quantization` names a TensorRT-LLM QuantAlgo ("fp8" -> FP8, "w4a16_awq" -> W4A16_AWQ); it
    joins the other keys of a `quant_config` the config gives (the checks keep quant_algo out of it).
    """
    given = options.get(CONFIG_KEY)
    config: dict[str, object] = decode(str(given)) if given is not None else {}
    merged: dict[str, object] = {}
    if options.get("dtype") is not None:
        merged["dtype"] = options["dtype"]
    if options.get("quantization") is not None:
        quant = config.get("quant_config")
        rest = quant if isinstance(quant, dict) else {}
        merged["quant_config"] = {"quant_algo": str(options["quantization"]).upper(), **rest}
    merged.update((key, value) for key, value in config.items() if key not in merged)
    return to_yaml(merged) if merged else None


def check_config(p: LaunchParams, _version: str | None) -> list[ConfigProblem]:
    """What in engine_args.config trtllm-serve would refuse, or would take over a flag mdeploy sets."""
    given = p.options.get(CONFIG_KEY)
    problems = []
    for key, value in (decode(str(given)) if given is not None else {}).items():
        if key in _SET_ELSEWHERE:
            problems.append(
                ConfigProblem((key,), f"{key} is set by mdeploy; the file would override it", _SET_ELSEWHERE[key])
            )
        elif key in _PYTORCH_ONLY:
            problems.append(
                ConfigProblem(
                    (key,),
                    f"{key} is an option of TensorRT-LLM's PyTorch backend",
                    "mdeploy serves trtllm with the TensorRT backend; remove it",
                )
            )
        elif key not in LLM_API_OPTIONS:
            known = "known: see TrtLlmArgs in TensorRT-LLM's LLM API reference"
            problems.append(
                ConfigProblem(
                    (key,), f"TensorRT-LLM's LLM API has no option {key!r}", did_you_mean(key, LLM_API_OPTIONS) or known
                )
            )
        elif key.endswith("_config") and not isinstance(value, dict):
            problems.append(
                ConfigProblem(
                    (key,), f"{key} is a mapping of options", f"write {key}: as a mapping (key: value lines under it)"
                )
            )
        elif key == "quant_config" and isinstance(value, dict) and "quant_algo" in value:
            problems.append(
                ConfigProblem(
                    (key, "quant_algo"),
                    "the quantization algorithm is engine_args.quantization",
                    "set engine_args.quantization instead (fp8 -> FP8)",
                )
            )
    return problems


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
    return write_then_exec(argv, CONFIG_ENV, CONFIG_PATH)


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
    check_config=check_config,
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
