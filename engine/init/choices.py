"""What `mdeploy init` writes, decided from flags or answers: one dataclass, its defaults, its checks.

Three kinds, each the smallest manifest that deploys something real:
- `llm`: an OpenAI-compatible service of one Hub model (or a model folder) on one engine;
- `web`: a FastAPI app served as ASGI, with its module;
- `function`: a scheduled function, with its module.
Names and values are checked by the manifest's own validation once rendered (write.py); here
only what decides which files to write (the handler's module) and what flags go together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from engine.errors import UserError
from engine.manifest.models.shorthands import IMPORT_PATH_PATTERN, NAME_PATTERN, NAME_RULE

KINDS = ("llm", "web", "function")
ENGINES = ("vllm", "sglang", "trtllm", "transformers")
DEFAULT_ENGINE = "vllm"
# A GPU each engine's default image runs well on for a model of about 8B parameters in 16 bits.
DEFAULT_GPU = {"vllm": "L40S", "sglang": "L40S", "trtllm": "H100", "transformers": "L4"}
DEFAULT_KEY = {"llm": "chat", "web": "api", "function": "job"}
DEFAULT_APP = {"web": "web-app", "function": "jobs"}
DEFAULT_SCHEDULE = "0 3 * * *"  # 03:00 UTC daily
HANDLER_PACKAGE = "workloads"
HANDLER_ATTR = {"web": "app", "function": "main"}
MANIFESTS_FOLDER = Path("manifests")

_IMPORT_PATH = re.compile(IMPORT_PATH_PATTERN)

_T = TypeVar("_T")


def filled(value: _T | None, what: str) -> _T:
    """A choice completed() always fills, read where it is required. Rendering and writing take
    completed choices only, which the dataclass's types (None until asked) cannot say."""
    if value is None:
        raise ValueError(f"init's {what} was never filled: render and write completed(choices) only")
    return value


@dataclass(frozen=True)
class Choices:
    kind: str | None  # None until asked
    engine: str | None = None  # llm only
    model_id: str | None = None  # llm: a Hub repo ...
    model_path: str | None = None  # ... or a folder
    revision: str | None = None  # given, or pinned by revision.py before rendering
    app: str | None = None
    key: str | None = None
    gpu: str | None = None
    handler: str | None = None  # web, function: module:attr
    schedule: str | None = None  # function: a cron line or an interval ("4h")
    overlay: str | None = None  # an environment to write an overlay for
    path: Path | None = None  # the manifest file


def completed(choices: Choices) -> Choices:
    """`choices` with every default filled in and every value checked (a UserError names the flag)."""
    kind = choices.kind
    if kind is None:
        raise UserError(f"say what to write: --kind {'|'.join(KINDS)} (init asks only on a terminal)")
    if kind not in KINDS:
        raise UserError(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if kind == "llm":
        choices = _completed_llm(choices)
    else:
        for flag, value in (
            ("--engine", choices.engine),
            ("--model", choices.model_id),
            ("--model-path", choices.model_path),
        ):
            if value is not None:
                raise UserError(f"{flag} is for --kind llm; a {kind} has its own code instead (--handler)")
    for flag, name in (("--app", choices.app), ("--name", choices.key)):
        # Checked before anything is derived from them (the handler's module is named after the app).
        if name is not None and not re.match(NAME_PATTERN, name):
            raise UserError(f"{flag} {name!r} is not a valid Modal name ({NAME_RULE})")
    app = choices.app or DEFAULT_APP.get(kind) or app_name_for(choices)
    key = choices.key or DEFAULT_KEY[kind]
    handler = choices.handler
    if kind != "llm":
        handler = handler or f"{HANDLER_PACKAGE}.{app.replace('-', '_')}:{HANDLER_ATTR[kind]}"
        if not _IMPORT_PATH.match(handler):
            raise UserError(f"--handler {handler!r} is not MODULE:ATTRIBUTE, e.g. {HANDLER_PACKAGE}.jobs:main")
    elif handler is not None:
        raise UserError("--handler is for --kind web or function; an llm service runs its engine")
    if choices.schedule is not None and kind != "function":
        raise UserError("--schedule is for --kind function")
    schedule = (choices.schedule or DEFAULT_SCHEDULE) if kind == "function" else None
    if choices.overlay is not None:
        from engine.manifest.load import check_environment_name

        check_environment_name(choices.overlay)
    path = choices.path or MANIFESTS_FOLDER / f"{app}.yaml"
    if path.suffix not in (".yaml", ".yml"):
        raise UserError(f"{path.as_posix()}: mdeploy init writes YAML; name a .yaml file")
    return replace(choices, app=app, key=key, handler=handler, schedule=schedule, path=path)


def app_name_for(choices: Choices) -> str:
    """An llm app's default name: the model's, in Modal's spelling (Qwen2.5-0.5B -> qwen2-5-0-5b)."""
    source = choices.model_id.rsplit("/", 1)[-1] if choices.model_id else Path(choices.model_path or "chat").name
    name = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-")[:64].strip("-")
    return name or "chat"


def overlay_path(choices: Choices) -> Path | None:
    if choices.overlay is None or choices.path is None:
        return None
    return choices.path.with_name(f"{choices.path.stem}.{choices.overlay}{choices.path.suffix}")


def _completed_llm(choices: Choices) -> Choices:
    engine = choices.engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UserError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if (choices.model_id is None) == (choices.model_path is None):
        given = "not both" if choices.model_id is not None else "one of them"
        raise UserError(
            f"an llm service serves one model: give --model ORG/NAME (a Hub repo) or --model-path DIR, {given}"
        )
    if choices.model_path is not None and choices.revision is not None:
        raise UserError("--revision pins a Hub model; a --model-path folder has none")
    return replace(choices, engine=engine, gpu=choices.gpu or DEFAULT_GPU[engine])
