"""The questions `mdeploy init` asks on a terminal, one per choice that no flag made.

`ask(question, default)` returns the answer (the default for an empty one); the CLI passes one
that reads the terminal, tests pass a script of answers. Each answer is checked where the same
flag would be (choices.py), so a wrong answer gets the flag's message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from engine.init.choices import (
    DEFAULT_APP,
    DEFAULT_ENGINE,
    DEFAULT_GPU,
    DEFAULT_SCHEDULE,
    ENGINES,
    HANDLER_ATTR,
    HANDLER_PACKAGE,
    KINDS,
    MANIFESTS_FOLDER,
    Choices,
    app_name_for,
)

Ask = Callable[[str, str | None], str]
DEFAULT_MODEL = "Qwen/Qwen2.5-0.5B-Instruct"  # small and not gated: works for everyone
KIND_QUESTION = "What will it run? llm (a model behind an OpenAI API), web (a FastAPI app), function (a scheduled job)"


def ask_missing(given: Choices, ask: Ask) -> Choices:
    """`given` with an answer for every choice left open."""
    c = given
    kind = c.kind or _one_of(ask(KIND_QUESTION, "llm"), KINDS, "kind")
    c = replace(c, kind=kind)
    if kind == "llm":
        engine = c.engine
        if engine is None:
            engine = _one_of(ask(f"Engine: {', '.join(ENGINES)}", DEFAULT_ENGINE), ENGINES, "engine")
            c = replace(c, engine=engine)
        if c.model_id is None and c.model_path is None:
            model = ask("Model: a Hugging Face repo (ORG/NAME), or a folder holding config.json", DEFAULT_MODEL)
            c = replace(c, model_path=model) if _is_folder(model) else replace(c, model_id=model)
        if c.gpu is None:
            c = replace(c, gpu=ask("GPU on Modal", DEFAULT_GPU[engine]))
    app = c.app
    if app is None:
        app = ask("App name (the Modal app)", DEFAULT_APP.get(kind) or app_name_for(c))
        c = replace(c, app=app)
    if kind != "llm" and c.handler is None:
        default = f"{HANDLER_PACKAGE}.{app.replace('-', '_')}:{HANDLER_ATTR[kind]}"
        c = replace(c, handler=ask("Its code, as MODULE:ATTRIBUTE (a stub is written when the module is new)", default))
    if kind == "function" and c.schedule is None:
        c = replace(c, schedule=ask('Schedule: a cron line in UTC, or an interval like "4h"', DEFAULT_SCHEDULE))
    if c.path is None:
        c = replace(c, path=Path(ask("Write the manifest to", (MANIFESTS_FOLDER / f"{c.app}.yaml").as_posix())))
    if c.overlay is None:
        c = replace(c, overlay=ask("An overlay for an environment too? (e.g. prod; empty for none)", "") or None)
    return c


def _one_of(answer: str, allowed: tuple[str, ...], what: str) -> str:
    from engine.errors import UserError

    if answer not in allowed:
        raise UserError(f"{what} must be one of {', '.join(allowed)}, got {answer!r}")
    return answer


def _is_folder(answer: str) -> bool:
    return answer.startswith((".", "/", "~")) or Path(answer).is_dir()
