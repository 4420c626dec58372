"""SGLang: `python -m sglang.launch_server`, from the SGLang team's own image.

The image is the pinned `lmsysorg/sglang` runtime image, as in Modal's SGLang examples (it brings
its own Python, so Modal adds none). Its tag follows SGLang's release workflow: CUDA 13.0 runtime
images are `v{version}-cu130-runtime` (SGLang's CUDA 12.9 lane ended with 0.5.19, and 0.5.23's own
wheel requires torch 2.14.1 and cu13 kernels); see docs/engines.md. DeepGEMM kernels are JIT-compiled on first use on Hopper
GPUs; SGLang keeps them under `SGLANG_DG_CACHE_DIR`, which we point at a volume so later cold
starts reuse them.
"""

from __future__ import annotations

from engine.blueprint.model import ImageSpec, SnapshotSpec
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

IMAGE_KEY = "sglang-default"
VERSION = "0.5.23"  # moved 2026-12-02; how to move it: docs/engines.md
SGLANG_IMAGE = f"lmsysorg/sglang:v{VERSION}-cu130-runtime"

DEEPGEMM_CACHE = CacheVolume(
    key="deepgemm-cache",
    name="deepgemm-cache",
    path="/root/.cache/deepgemm",
    label="deepgemm",
    variable="SGLANG_DG_CACHE_DIR",
)

OPTIONS = (
    OptionFlag("context_length", "--context-length"),
    OptionFlag("mem_fraction_static", "--mem-fraction-static"),
    OptionFlag("dtype", "--dtype"),
    OptionFlag("quantization", "--quantization"),
)


def _sleeping(p: LaunchParams) -> bool:
    return p.sleep_mode


# Spellings from SGLang's ServerArgs (python/sglang/srt/server_args.py): --model is --model-path's
# alias, --tp-size and --tensor-parallel-size name the tensor-parallel size (our --tp is argparse's
# abbreviation of --tp-size, listed so it reads as owned without relying on that).
OWNED_FLAGS = (
    OwnedFlag(("--model-path", "--model"), "model.id", "the model is set from model.id or model.path"),
    OwnedFlag(("--revision",), "model.revision"),
    OwnedFlag(("--served-model-name",), "model.served_name"),
    OwnedFlag(("--host",), None, "the server listens on 0.0.0.0, where Modal's proxy reaches it"),
    OwnedFlag(("--port",), "port"),
    OwnedFlag(("--tp", "--tp-size", "--tensor-parallel-size"), "engine_args.tensor_parallel_size"),
    OwnedFlag(("--pp-size", "--pipeline-parallel-size"), "engine_args.pipeline_parallel_size"),
    # Multi-node: set from `nodes`; each container fills in its rank and rank 0's address.
    OwnedFlag(("--nnodes",), "nodes"),
    OwnedFlag(
        ("--node-rank", "--dist-init-addr", "--nccl-init-addr"),
        None,
        "each container of a clustered service fills in its rank and rank 0's address when it starts (nodes)",
    ),
    OwnedFlag(("--disable-cuda-graph",), "fast_boot"),
    OwnedFlag(("--enable-memory-saver", "--enable-weights-cpu-backup"), "memory_snapshot", applies=_sleeping),
    OwnedFlag(("--api-key",), "auth.api_key_secret"),
    *option_flags(OPTIONS),
)


def default_image() -> ImageSpec:
    return ImageSpec(
        key=IMAGE_KEY,
        base="registry",
        python_version=None,
        registry_ref=SGLANG_IMAGE,
        clear_entrypoint=True,
    )


def launch_command(p: LaunchParams) -> tuple[str, ...]:
    argv = ["python", "-m", "sglang.launch_server", "--model-path", p.model]
    if p.revision:
        argv += ["--revision", p.revision]
    # SGLang serves one name; clients then send the short name as "model".
    argv += ["--served-model-name", p.served_name]
    argv += ["--host", p.host, "--port", str(p.port)]
    argv += ["--tp", str(p.tensor_parallel)]
    if p.pipeline_parallel != 1:
        argv += ["--pp-size", str(p.pipeline_parallel)]
    if p.nodes > 1:
        argv += ["--nnodes", str(p.nodes)]
    if p.fast_boot:
        # SGLang's counterpart of vLLM's eager mode: no CUDA-graph capture at start.
        argv.append("--disable-cuda-graph")
    if p.sleep_mode:
        # torch_memory_saver lets the server hand its GPU memory back before the snapshot; the
        # weights' CPU backup is what it restores them from after (without it they come back as
        # garbage). Both are what Modal's SGLang snapshot examples pass.
        argv += ["--enable-memory-saver", "--enable-weights-cpu-backup"]
    argv += render_options(p.options, OPTIONS, "sglang")
    argv += p.extra_args
    return tuple(argv)


# The port rank 0 listens on for the other nodes (torch.distributed's rendezvous): the one SGLang's
# multi-node documentation uses.
DIST_INIT_PORT = 20000


def cluster_args(p: LaunchParams) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Every node names its rank and rank 0's HOST:PORT; ranks other than 0 run schedulers only
    (SGLang serves HTTP from node 0), so they need nothing more."""
    return ("--node-rank", "{rank}", "--dist-init-addr", f"{{leader}}:{DIST_INIT_PORT}"), ()


ENGINE = Engine(
    name="sglang",
    default_image=default_image,
    caches=(HF_CACHE, DEEPGEMM_CACHE),
    launch_command=launch_command,
    runtime_env={**HF_DOWNLOAD_ENV, "SGLANG_DG_CACHE_DIR": DEEPGEMM_CACHE.path},
    api_key_flag="--api-key",
    # With --enable-memory-saver, these hand the GPU memory back before the snapshot and take it
    # again after restore. They parse a JSON body: the backend posts "{}".
    snapshot=SnapshotSpec(sleep_path="/release_memory_occupation", wake_path="/resume_memory_occupation"),
    # One compile thread keeps the process snapshot-safe (no inductor worker pool alive across the
    # checkpoint), as in Modal's SGLang snapshot examples.
    snapshot_env={"TORCHINDUCTOR_COMPILE_THREADS": "1"},
    owned_flags=OWNED_FLAGS,
    flag_syntax=FlagSyntax(abbreviations=True),
    version=VERSION,
    setting_keys={
        "context_length": "context_length",
        "memory_utilization": "mem_fraction_static",
        "dtype": "dtype",
        "quantization": "quantization",
    },
    # SGLang's ServerArgs defaults; it has no manifest key for the batch size, which extra_args
    # may set with --max-running-requests.
    setting_defaults=serving_defaults(max_sequences=256, memory_utilization=0.88),
    extra_arg_settings={"kv_cache_dtype": ("--kv-cache-dtype",), "max_sequences": ("--max-running-requests",)},
    cluster_args=cluster_args,
)
