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
from dataclasses import dataclass, field

from engine.blueprint.model import ImageSpec, SnapshotSpec, WarmupSpec
from engine.engines.owned_flags import FlagSyntax, OwnedFlag

LISTEN_HOST = "0.0.0.0"  # the Modal proxy reaches the server from outside the container
HEALTH_PATH = "/health"  # all four servers answer 200 here once the model is loaded
CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class CacheVolume:
    """A volume an engine mounts to survive cold starts: `key` in the Blueprint, Modal `name`."""

    key: str
    name: str
    path: str


# Every engine downloads weights through huggingface_hub; sharing one cache volume across
# engines and apps is what Modal's examples do (`huggingface-cache`), so weights download once.
HF_CACHE = CacheVolume(key="hf-cache", name="huggingface-cache", path="/root/.cache/huggingface")
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
    tensor_parallel: int = 1
    fast_boot: bool = True
    sleep_mode: bool = False  # start ready to sleep, for memory snapshots
    options: Mapping[str, object] = field(default_factory=dict)  # engine_args other than extras
    extra_args: tuple[str, ...] = ()


class EngineOptionError(ValueError):
    """An engine setting this engine cannot honour; `key` is the manifest key under the service."""

    def __init__(self, key: str, message: str, hint: str | None = None):
        super().__init__(message)
        self.key = key
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Engine:
    name: str
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

    def flag_spellings(self, key: str) -> tuple[str, ...]:
        """Every spelling of the flags the planner sets from manifest key `key` ("port", ...)."""
        return tuple(s for flag in self.owned_flags if flag.key == key for s in flag.spellings)


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
            if value:
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
    if HF_CACHE in engine.caches:
        found.update((name, HF_CACHE) for name in HF_CACHE_VARIABLES)
    env = {}
    for step in engine.default_image().steps:
        if step.op == "env" and step.env:
            env.update(step.env)
    env.update(engine.runtime_env)
    by_path = {cache.path: cache for cache in engine.caches}
    found.update((name, by_path[value]) for name, value in env.items() if value in by_path)
    return found
