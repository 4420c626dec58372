"""What every engine module provides, as plain data and pure functions.

An engine is described by one `Engine` value: its default image recipe, the cache volumes it
wants, how to build its launch command, where its health check lives and how (if at all) it
sleeps for a memory snapshot. The planner asks these questions with plain parameters
(`LaunchParams`), never with manifest models, so engines stay testable on their own and know
nothing of YAML, pydantic or provenance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from engine.blueprint.model import EngineName, ImageSpec, ServerSpec, SnapshotSpec, WarmupSpec
from engine.engines.config_file import ConfigProblem
from engine.engines.owned_flags import FlagSyntax, OwnedFlag, find_owned_flag

LISTEN_HOST = "0.0.0.0"  # the Modal proxy reaches the server from outside the container
HEALTH_PATH = "/health"  # all four servers answer 200 here once the model is loaded
CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class CacheVolume:
    """A volume an engine mounts to survive cold starts: `key` in the Blueprint, Modal `name`,
    `label` its name under a service's `caches:`, `variable` the env variable that moves it
    (set by the planner when a manifest moves the cache to another path)."""

    key: str
    name: str
    path: str
    label: str = ""
    variable: str | None = None

    @property
    def setting(self) -> str:
        """The cache's name under `caches:`."""
        return self.label or self.key


# Every engine downloads weights through huggingface_hub; sharing one cache volume across
# engines and apps is what Modal's examples do (`huggingface-cache`), so weights download once.
HF_CACHE = CacheVolume(
    key="hf-cache", name="huggingface-cache", path="/root/.cache/huggingface", label="huggingface", variable="HF_HOME"
)
# The variables that move huggingface_hub's cache away from its default (~/.cache/huggingface,
# where HF_CACHE is mounted): HF_HOME and its sub-paths, and the older names still honoured.
HF_CACHE_VARIABLES = ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE")
# huggingface_hub's Xet high-performance downloads (Modal's examples turn them on): a run-time
# setting of whoever downloads weights, so it belongs to the container, not to one image.
HF_DOWNLOAD_ENV = {"HF_XET_HIGH_PERFORMANCE": "1"}


@dataclass(frozen=True)
class LaunchParams:
    """Everything a launch command depends on, already resolved by the planner."""

    model: str  # a Hugging Face id or an absolute path
    revision: str | None  # a commit; None for a path
    served_name: str  # the name clients send as "model"
    port: int
    host: str = LISTEN_HOST
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    nodes: int = 1  # containers one replica spans (Modal's cluster size)
    fast_boot: bool = True
    sleep_mode: bool = False  # start ready to sleep, for memory snapshots
    options: Mapping[str, object] = field(default_factory=dict)  # engine_args other than extras
    extra_args: tuple[str, ...] = ()
    lora_adapters: tuple[tuple[str, str], ...] = ()  # (served name, path in the container) of each


@dataclass(frozen=True)
class CpuLaunch:
    """How a GPU engine's launch changes where its CPU build runs on a machine without a GPU:
    the parameters it runs with, the environment it needs, and a note for each change."""

    params: LaunchParams
    env: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class EngineOptionError(ValueError):
    """An engine setting this engine cannot honour; `key` is the manifest key under the service."""

    def __init__(self, key: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.key = key
        self.message = message
        self.hint = hint


# The serving settings every engine has, as ServerSpec fields: the planner fills each from the
# engine's manifest key for it (`Engine.setting_keys`), else from the engine's extra_args the
# engine reads it from (`Engine.extra_arg_settings`), else with the engine's own default.
SERVING_SETTINGS = ("context_length", "max_sequences", "memory_utilization", "dtype", "quantization", "kv_cache_dtype")


def serving_defaults(*, max_sequences: int, memory_utilization: float) -> dict[str, object]:
    """An engine's own defaults for SERVING_SETTINGS: the two that differ between engines, and
    the model's own context length, its checkpoint dtype, no quantization, a KV cache as wide as
    the weights."""
    return {
        "context_length": None,
        "max_sequences": max_sequences,
        "memory_utilization": memory_utilization,
        "dtype": "auto",
        "quantization": None,
        "kv_cache_dtype": "auto",
    }


def _one_name(_model: str, served_name: str) -> tuple[str, ...]:
    return (served_name,)


@dataclass(frozen=True)
class Engine:
    name: EngineName
    default_image: Callable[[], ImageSpec]
    caches: tuple[CacheVolume, ...]
    launch_command: Callable[[LaunchParams], tuple[str, ...]]
    launch_env: Callable[[LaunchParams], dict[str, str]] = lambda _params: {}  # env the command reads
    needs_gpu: bool = True
    supports_fast_boot: bool = True  # False: the engine has no eager/fast-start switch
    health_path: str = HEALTH_PATH
    api_key_flag: str | None = None  # None: the server cannot check an API key itself
    snapshot: SnapshotSpec | None = None  # None: no sleep mode, so no GPU memory snapshot
    snapshot_env: Mapping[str, str] = field(default_factory=dict)  # env the sleep endpoints need
    # Env the engine needs at run time: the planner puts it in every server container of this
    # engine, under the manifest's own env (which wins), whatever image the service names; default
    # images keep only what their build needs.
    runtime_env: Mapping[str, str] = field(default_factory=dict)
    # (model, revision) -> the only name the server answers to; None: it serves the name it is given.
    fixed_served_name: Callable[[str, str | None], str] | None = None
    # The flags launch_command writes from manifest keys, every spelling the engine accepts, and
    # how its parser reads flags: extra_args may not repeat them (see owned_flags.py).
    owned_flags: tuple[OwnedFlag, ...] = ()
    flag_syntax: FlagSyntax = FlagSyntax()
    # The engine version the default image pins: extra_args are checked against the flag catalogue
    # of this version (catalogue.py). None: no catalogue, extra_args pass unchecked.
    version: str | None = None
    # SERVING_SETTINGS field -> the engine_args key that sets it ("context_length": "max_model_len").
    setting_keys: Mapping[str, str] = field(default_factory=dict)
    # SERVING_SETTINGS field -> the engine's own default, what it uses when nothing sets it.
    setting_defaults: Mapping[str, object] = field(default_factory=dict)
    # SERVING_SETTINGS field without a manifest key -> the flags of it the engine reads from extra_args.
    extra_arg_settings: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # (model, served_name) -> every name the server answers to.
    served_names: Callable[[str, str], tuple[str, ...]] = _one_name
    # The engine_args key that picks the device, for an engine that also runs on CPU.
    device_option: str | None = None
    # GPU type ("H100") -> the defaults of SERVING_SETTINGS the engine picks by GPU, over
    # setting_defaults (vLLM sizes its batch by the GPU's memory).
    gpu_setting_defaults: Callable[[str], Mapping[str, object]] | None = None
    # A GPU engine with a CPU build: (params, this machine's environment) -> how it runs without
    # a GPU. None: without a GPU the engine does not run here (unless `needs_gpu` is false).
    cpu_launch: Callable[[LaunchParams, Mapping[str, str]], CpuLaunch] | None = None
    # How the engine spans several nodes: params -> (arguments every node adds, in which the
    # container fills in "{rank}" and "{leader}" (rank 0's address); arguments ranks other than 0
    # add). The static part (the node count, the rendezvous port) is in `launch_command`.
    # None: the engine cannot be launched across nodes by mdeploy.
    cluster_args: Callable[[LaunchParams], tuple[tuple[str, ...], tuple[str, ...]]] | None = None
    # The engine reads engine_args.config as a file (config_file.py): (params, the catalogue's
    # version, or None for a named image) -> what in it the engine would not take. None: no such file.
    check_config: Callable[[LaunchParams, str | None], list[ConfigProblem]] | None = None
    # The variable that names the engine's executable on this machine (local runs only), over
    # the command's own first word looked up on PATH.
    executable_env: str | None = None
    # Whether launch_command loads `LaunchParams.lora_adapters` (`adapters:`); False: a service of
    # this engine with adapters is refused where it names them.
    supports_lora: bool = False

    def default_settings(self, gpu_type: str | None) -> Mapping[str, object]:
        """The engine's own defaults when it runs on `gpu_type` (None: no GPU)."""
        if self.gpu_setting_defaults is None or gpu_type is None:
            return self.setting_defaults
        return {**self.setting_defaults, **self.gpu_setting_defaults(gpu_type)}

    def flag_spellings(self, key: str) -> tuple[str, ...]:
        """Every spelling of the flags the planner sets from manifest key `key` ("port", ...)."""
        return tuple(s for flag in self.owned_flags if flag.key == key for s in flag.spellings)

    def all_flag_spellings(self) -> frozenset[str]:
        """Every flag spelling this engine's module knows: the flags its argv builder writes, under
        each spelling the engine accepts, and those it reads settings from in extra_args."""
        spellings = {s for flag in self.owned_flags for s in flag.spellings}
        spellings.update(s for flags in self.extra_arg_settings.values() for s in flags)
        if self.api_key_flag:
            spellings.add(self.api_key_flag)
        return frozenset(spellings)

    def params(self, server: ServerSpec) -> LaunchParams:
        """The launch parameters a server's fields stand for: settings that are the engine's own
        defaults stay off the command, the others become the engine's options."""
        options: dict[str, object] = {
            self.setting_keys[name]: getattr(server, name)
            for name in SERVING_SETTINGS
            if name in self.setting_keys and name not in server.engine_defaults
        }
        options.update(server.engine_options)
        return LaunchParams(
            model=server.model,
            revision=server.revision,
            served_name=server.served_model_name,
            port=server.port,
            host=server.host,
            tensor_parallel=server.tensor_parallel_size,
            pipeline_parallel=server.pipeline_parallel_size,
            nodes=server.cluster.nodes if server.cluster is not None else 1,
            fast_boot=server.fast_boot,
            sleep_mode=server.snapshot is not None,
            options=options,
            extra_args=server.extra_args,
            lora_adapters=tuple((a.name, a.path) for a in server.lora_adapters),
        )

    def command(self, server: ServerSpec) -> tuple[str, ...]:
        """The server's argv, derived from its fields: what the planner puts in `command`."""
        return self.launch_command(self.params(server))

    def moves_with(self, server: ServerSpec, name: str, other: object) -> frozenset[int]:
        """Indices of the server's command that hold field `name`'s value: they hold it, and they
        change when the field is set to `other` (what eject turns into a named constant)."""
        value = getattr(server, name)
        # A field chosen by name: its type is the caller's to match (eject passes a value of it).
        before, after = self.command(server), self.command(replace(server, **{name: other}))  # type: ignore[arg-type]
        if value is None or len(before) != len(after):
            return frozenset()
        return frozenset(i for i, (a, b) in enumerate(zip(before, after)) if a != b and a == format_value(value))


@dataclass(frozen=True)
class OptionFlag:
    """How one `engine_args` key becomes argv: `--flag VALUE`, or for booleans `--flag`/`--no-flag`."""

    key: str
    flag: str
    boolean: bool = False
    negative: str | None = None  # the flag for False; None: False adds nothing


def render_options(options: Mapping[str, object], table: tuple[OptionFlag, ...], engine: str) -> list[str]:
    """Options -> argv in the table's order (not the mapping's), so the command is deterministic."""
    known = {entry.key for entry in table}
    for key in options:
        if key not in known:
            raise EngineOptionError(
                key,
                f"{engine} has no setting {key!r}",
                hint=f"known: {', '.join(sorted(known)) or 'none'}; pass anything else in extra_args",
            )
    argv: list[str] = []
    for entry in table:
        value = options.get(entry.key)
        if value is None:
            continue
        if entry.boolean:
            # The Blueprint holds options as the engine reads them: "true" / "false".
            if value is True or value == "true":
                argv.append(entry.flag)
            elif entry.negative:
                argv.append(entry.negative)
            continue
        argv += [entry.flag, format_value(value)]
    return argv


def format_value(value: object) -> str:
    """One spelling per value: booleans lower-case, floats by repr ("0.9", not "0.90000001")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        # engine_args.config: canonical JSON, in the manifest's order (config_file.py reads it).
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def served_names(model: str, served_name: str) -> tuple[str, ...]:
    """Serve the model under its id and its short name, once each (vLLM/SGLang take several)."""
    return (model,) if served_name == model else (model, served_name)


def chat_warmup(served_name: str, requests: int) -> WarmupSpec:
    """A tiny chat completion: it compiles the kernels real traffic needs before the first user."""
    body = {
        "max_tokens": 8,
        "messages": [{"content": "Say hello.", "role": "user"}],
        "model": served_name,
    }
    return WarmupSpec(path=CHAT_PATH, body=json.dumps(body, sort_keys=True), requests=requests)


def cache_variables(engine: Engine) -> dict[str, CacheVolume]:
    """The variables that tell `engine` (or huggingface_hub under it) where one of its cache
    volumes is: the Hub's own, and every variable the engine sets to one of its cache paths, in
    its run-time env or in its default image."""
    found: dict[str, CacheVolume] = {}
    # By key: a service may have moved or renamed the Hub cache (`caches:`), still the Hub's.
    for cache in engine.caches:
        if cache.key == HF_CACHE.key:
            found.update((name, cache) for name in HF_CACHE_VARIABLES)
    env = {}
    for step in engine.default_image().steps:
        if step.op == "env" and step.env:
            env.update(step.env)
    env.update(engine.runtime_env)
    by_path = {cache.path: cache for cache in engine.caches}
    found.update((name, by_path[value]) for name, value in env.items() if value in by_path)
    found.update((cache.variable, cache) for cache in engine.caches if cache.variable)
    return found


def local_command(
    engine: Engine,
    server: ServerSpec,
    *,
    host: str,
    port: int,
    gpu_here: bool,
    environ: Mapping[str, str],
    local_path: Callable[[str], str] = str,
) -> tuple[tuple[str, ...], dict[str, str], list[str]]:
    """The argv that runs `server` on this machine, listening at host:port, the environment it
    needs there, and what changed.

    A command the engine derived from the server's fields is derived again from the same fields
    with this machine's address (and, without a GPU, the CPU: a device option set to the CPU, or
    the engine's CPU build with what it cannot do there changed, see `Engine.cpu_launch`).
    Another command (a Blueprint written by hand, a test's stand-in server) keeps its arguments;
    its listening address is set where it passes `--host` / `--port`, or appended.
    """
    if engine.command(server) != server.command:
        argv = _with_flag(list(server.command), "--host", host)
        return tuple(_with_flag(argv, "--port", str(port))), {}, []
    # Paths inside values the engine composes (a LoRA adapter's `name=path`) are fields: the
    # caller maps each to this machine before the argv is derived (mount paths, local/mounts.py).
    adapters = tuple(replace(a, path=local_path(a.path)) for a in server.lora_adapters)
    local = replace(server, host=host, port=port, lora_adapters=adapters)
    notes = []
    device = engine.device_option
    if device and not gpu_here and server.engine_options.get(device, "").startswith("cuda"):
        local = replace(local, engine_options={**server.engine_options, device: "cpu"})
        flag = engine.flag_spellings(f"engine_args.{device}")[0]
        notes.append(f"no GPU here: running with {flag} cpu")
    if engine.cpu_launch is not None and not gpu_here:
        cpu = engine.cpu_launch(engine.params(local), environ)
        return engine.launch_command(cpu.params), dict(cpu.env), [*notes, *cpu.notes]
    return engine.command(local), {}, notes


def _with_flag(argv: list[str], flag: str, value: str) -> list[str]:
    """`flag`'s value (`--flag value` or `--flag=value`) set to `value`; appended when absent."""
    for index, arg in enumerate(argv):
        if arg == flag and index + 1 < len(argv):
            return [*argv[: index + 1], value, *argv[index + 2 :]]
        if arg.startswith(flag + "="):
            return [*argv[:index], f"{flag}={value}", *argv[index + 1 :]]
    return [*argv, flag, value]


def extra_arg_setting(engine: Engine, name: str, extra_args: tuple[str, ...]) -> tuple[int, str] | None:
    """(index, text) of the value extra_args gives serving setting `name` through a flag the
    engine reads it from (the last one, as the engine's parser takes it), or None."""
    flags = engine.extra_arg_settings.get(name)
    if not flags:
        return None
    wanted = (OwnedFlag(flags, None),)
    found = None
    for index, arg in enumerate(extra_args):
        if find_owned_flag(arg, wanted, engine.flag_syntax, None) is None:
            continue
        if "=" in arg:
            found = (index, arg.split("=", 1)[1])
        elif index + 1 < len(extra_args):
            found = (index + 1, extra_args[index + 1])
    return found
