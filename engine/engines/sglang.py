"""SGLang: `python -m sglang.launch_server`, from the SGLang team's own image.

The image is the pinned `lmsysorg/sglang` runtime image, as in Modal's SGLang examples (it brings
its own Python, so Modal adds none). Its tag follows SGLang's release workflow: CUDA 13.0 runtime
images are `v{version}-cu130-runtime` (SGLang's CUDA 12.9 lane ended with 0.5.19, and 0.5.23's own
wheel requires torch 2.14.1 and cu13 kernels); see docs/engines.md. DeepGEMM kernels are JIT-compiled on first use on Hopper
GPUs; SGLang keeps them under `SGLANG_DG_CACHE_DIR`, which we point at a volume so later cold
starts reuse them.

`engine_args.config` is SGLang's `--config` file: ServerArgs names (the flags, with underscores)
and their values, which SGLang turns back into flags before its parser reads them. It is checked
against the flag catalogue like extra_args, and written with each key spelled as the flag.
"""

from __future__ import annotations

import json

from engine.blueprint.model import ImageSpec, SnapshotSpec
from engine.engines import catalogue
from engine.engines.catalogue import Option
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
from engine.engines.extra_args_check import check_extra_args, find_option
from engine.engines.owned_flags import FlagSyntax, OwnedFlag, find_owned_flag, option_flags

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


CONFIG_ENV = "MDEPLOY_SGLANG_CONFIG"
CONFIG_PATH = "/tmp/mdeploy-sglang-config.yaml"  # SGLang reads a --config file only by a YAML suffix


def _sleeping(p: LaunchParams) -> bool:
    return p.sleep_mode


def _adapters(p: LaunchParams) -> bool:
    # Without `adapters:`, --enable-lora in extra_args is the user's own (adapters loaded at run time).
    return bool(p.lora_adapters)


def _configured(p: LaunchParams) -> bool:
    return p.options.get(CONFIG_KEY) is not None


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
    OwnedFlag(("--enable-lora", "--lora-paths"), "adapters", applies=_adapters),
    OwnedFlag(("--config",), "engine_args.config", applies=_configured),
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
    if p.lora_adapters:
        # --lora-paths takes NAME=PATH items (ServerArgs, LoRARef); each NAME is a model name of requests.
        argv += ["--enable-lora", "--lora-paths", *(f"{name}={path}" for name, path in p.lora_adapters)]
    argv += render_options({k: v for k, v in p.options.items() if k != CONFIG_KEY}, OPTIONS, "sglang")
    if not _configured(p):
        return (*argv, *p.extra_args)
    return write_then_exec([*argv, "--config", CONFIG_PATH, *p.extra_args], CONFIG_ENV, CONFIG_PATH)


def _options_by_name(version: str | None) -> dict[str, Option] | None:
    """ServerArgs name ("context_length") -> its option, from the catalogue of `version`."""
    table = catalogue.load("sglang", version) if version else None
    if table is None:
        return None
    return {s[2:].replace("-", "_"): o for o in table.options for s in o.spellings if s.startswith("--")}


def _flag(name: str, options: dict[str, Option] | None) -> str:
    """The flag SGLang reads for ServerArgs name `name`: its first long spelling."""
    option = options.get(name.replace("-", "_")) if options else None
    if option is None:
        return "--" + name.replace("_", "-")
    return next(s for s in option.spellings if s.startswith("--"))


def _file_value(value: object, option: Option | None) -> object:
    # SGLang passes a list as several values only to a flag that takes several; any other list or
    # mapping is one JSON argument (what its JSON-valued flags parse), written as text.
    if isinstance(value, list) and option is not None and option.nargs in ("+", "*"):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"))
    return value


def _argv_values(value: object) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [str(item) for item in value]
    return [json.dumps(value) if isinstance(value, dict) else str(value)]


def launch_env(p: LaunchParams) -> dict[str, str]:
    given = p.options.get(CONFIG_KEY)
    if given is None:
        return {}
    options = _options_by_name(VERSION)
    config = decode(str(given))
    written = {
        _flag(name, options)[2:]: _file_value(value, (options or {}).get(name.replace("-", "_")))
        for name, value in config.items()
    }
    return {CONFIG_ENV: to_yaml(written)}


def check_config(p: LaunchParams, version: str | None) -> list[ConfigProblem]:
    """What in engine_args.config SGLang would refuse, or would take over a flag mdeploy sets or
    one extra_args sets too. Without a catalogue (a named image) only the flags mdeploy sets."""
    given = p.options.get(CONFIG_KEY)
    options = _options_by_name(version)
    problems = []
    for name, value in (decode(str(given)) if given is not None else {}).items():
        at = (name,)
        option = options.get(name.replace("-", "_")) if options else None
        if name.replace("-", "_") == CONFIG_KEY:
            problems.append(ConfigProblem(at, "a config file cannot name another one", "move its keys here"))
            continue
        if options is not None and option is None:
            hint = (
                did_you_mean(name.replace("-", "_"), options)
                or "the keys are SGLang's server arguments, e.g. chunked_prefill_size"
            )
            problems.append(ConfigProblem(at, f"SGLang {version} has no server argument {name!r}", hint))
            continue
        flag = _flag(name, options)
        owned = find_owned_flag(flag, OWNED_FLAGS, ENGINE.flag_syntax, p)
        if owned is not None:
            instead = f"set {owned.key} instead" if owned.key else owned.instead
            problems.append(
                ConfigProblem(at, f"{name} is {flag}, a flag mdeploy sets itself; the file would set it again", instead)
            )
            continue
        read = [setting for setting, flags in ENGINE.extra_arg_settings.items() if flag in flags]
        if read:
            hint = f"give it in extra_args, where the plan reads the server's {read[0]} from it"
            problems.append(ConfigProblem(at, f"{name} is {flag}, which the plan reads from extra_args only", hint))
            continue
        twice = [
            i
            for i, arg in enumerate(p.extra_args)
            if option is not None and version and find_option("sglang", version, ENGINE.flag_syntax, arg) is option
        ]
        if twice:
            where = f"engine_args.extra_args[{twice[0]}]"
            problems.append(ConfigProblem(at, f"{name} is {flag}, which {where} sets too", "set it in one place"))
            continue
        if option is not None and option.nargs == 0:
            if not isinstance(value, bool):
                problems.append(ConfigProblem(at, f"{flag} is a switch", "give true or false"))
            continue
        argv = [flag, *_argv_values(value)]
        for bad in check_extra_args("sglang", version, ENGINE.flag_syntax, argv, lambda _arg: False):
            problems.append(ConfigProblem(at, bad.message, bad.hint))
    return problems


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
    launch_env=launch_env,
    check_config=check_config,
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
    supports_lora=True,
)
