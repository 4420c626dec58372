"""`mdeploy demo`: the main job, once, on this machine: plan, model, serve, ask, stop.

A newcomer's first command should end with the thing working, and then end. The demo takes the
shipped `manifests/local-chat.yaml` in its `tiny` environment and walks the same path as the
real commands, each step named with the command that does it alone:
1. plan it (`mdeploy plan ... --env tiny`): the launch command comes from the Blueprint;
2. write the tiny test model where the plan's model path points, unless it is there already;
3. serve it through that plan (`mdeploy serve ... --env tiny`) on a free port;
4. ask it one question through the OpenAI API with the `openai` client;
5. stop it, the engine's whole process tree.
Offline, on a CPU: the tiny model is generated, not downloaded, and the engine runs with
HF_HUB_OFFLINE=1 (its model is a folder: there is nothing to fetch). Printing is the caller's
(`say`). Every failure is a UserError (one line, naming the engine's log once the engine has
run); every wait is bounded (the plan's startup_timeout, REQUEST_TIMEOUT for the answer); the
engine is stopped on every way out, Ctrl-C and SIGTERM included (`running_service`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from engine.errors import UserError
from engine.local.model_source import ModelFolder
from engine.local.state import local_root, shown_path, state_folder

DEMO_MANIFEST = Path("manifests") / "local-chat.yaml"
DEMO_ENVIRONMENT = "tiny"
DEFAULT_QUESTION = "Hello! Who are you?"
DEFAULT_MAX_TOKENS = 16
LOCAL_EXTRA = 'pip install -e ".[local]"'
# Seconds the answer may take: 16 tokens of the tiny model take well under one on a laptop CPU.
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class DemoAnswer:
    model: str
    text: str
    completion_tokens: int | None
    seconds: float


def find_demo_manifest(cwd: Path, package_checkout: Path) -> Path:
    """`manifests/local-chat.yaml` of the checkout around `cwd`, else of the checkout that holds
    this `engine` package (an editable install run from elsewhere)."""
    for folder in (cwd, *cwd.parents, package_checkout):
        candidate = folder / DEMO_MANIFEST
        if candidate.is_file():
            return candidate
    raise UserError(
        f"the demo serves {DEMO_MANIFEST.as_posix()} of an mdeploy checkout, and there is none here "
        f"or around the installed package: run it in a clone of mdeploy"
    )


def run_demo(
    manifest: Path,
    *,
    environ: dict[str, str],
    say: Callable[[str], None],
    question: str = DEFAULT_QUESTION,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    port: int | None = None,
) -> DemoAnswer:
    from engine.bench.target import discover_model
    from engine.local.ports import ensure_port_free, free_port
    from engine.local.service import check_before_start, prepare_launch, running_service
    from engine.local.source import with_env_values
    from engine.planner.plan import plan_file_with_origins

    _require_local_extra()
    shown = shown_path(manifest)
    root = local_root(manifest)
    say(f"mdeploy: the demo serves {shown} (environment {DEMO_ENVIRONMENT}) here, asks it one question and stops it")

    planned = plan_file_with_origins(manifest, DEMO_ENVIRONMENT, environ)
    # Run as a deploy would: env entries from variables get their values (the plan shows references).
    blueprint = with_env_values(planned.blueprint, planned.env_values)
    launch = prepare_launch(
        blueprint,
        None,
        workdir=root,
        environ=environ,
        dotenv_path=Path(".env"),
        port=free_port() if port is None else port,
    )
    # Before the model is written: a busy port is one line, not a line after seconds of work.
    ensure_port_free(launch.host, launch.port)
    say(f"1. plan   mdeploy plan {shown} --env {DEMO_ENVIRONMENT}")
    say(f"          service {launch.service}: {' '.join(launch.argv)}")
    for note in launch.notes:
        say(f"          ({note})")

    model_was_there = False
    if isinstance(launch.model, ModelFolder):
        model_was_there = (launch.model.folder / "config.json").is_file()
        say(f"2. model  {_ensure_tiny_model(launch.model.folder)}")
        launch = replace(launch, env={**launch.env, "HF_HUB_OFFLINE": "1"})
    launch = check_before_start(launch)

    log_path = state_folder(root, "logs", f"{launch.service}.log")
    say(f"3. serve  mdeploy serve {shown} --env {DEMO_ENVIRONMENT} --port {launch.port}")
    started = time.monotonic()
    with _open_log(log_path) as log_file:
        try:
            with running_service(launch, workdir=root, log=lambda line: print(line, file=log_file, flush=True)):
                say(
                    f"          ready at {launch.url}/v1 after {time.monotonic() - started:.0f} s "
                    f"(the engine's log: {shown_path(log_path)})"
                )
                base_url = f"{launch.url}/v1"
                model = discover_model(base_url, None, timeout=REQUEST_TIMEOUT)
                say(f"4. ask    POST /v1/chat/completions through the openai client, model {model}")
                say(f"          you:   {question}")
                answer = ask(base_url, model, question, max_tokens)
                tokens = f"{answer.completion_tokens} tokens" if answer.completion_tokens is not None else "answered"
                said = json.dumps(answer.text, ensure_ascii=False)
                say(f"          model: {said} ({tokens} in {answer.seconds:.1f} s; random weights, so gibberish)")
        except UserError as exc:
            hint = ""
            if model_was_there and isinstance(launch.model, ModelFolder):
                hint = f"; {shown_path(launch.model.folder)} was there already: delete it and the demo writes a fresh tiny model"
            raise UserError(f"{exc.message} (the engine is stopped; its log: {shown_path(log_path)}{hint})") from None
    say(f"5. stop   stopped {launch.service} and every process it started")
    return answer


def ask(base_url: str, model: str, question: str, max_tokens: int) -> DemoAnswer:
    """One chat completion through the OpenAI client; a UserError for no answer or a malformed one."""
    from openai import OpenAI, OpenAIError

    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=REQUEST_TIMEOUT)
    started = time.monotonic()
    try:
        response = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": question}], max_tokens=max_tokens
        )
    except OpenAIError as exc:
        said = " ".join(str(exc).split())[:300]
        raise UserError(f"the served model did not answer: {type(exc).__name__}: {said}") from None
    seconds = time.monotonic() - started
    if not getattr(response, "choices", None) or response.choices[0].message is None:
        raise UserError(f"the served model answered without a choice: POST {base_url}/chat/completions")
    usage = response.usage.completion_tokens if response.usage is not None else None
    return DemoAnswer(model, response.choices[0].message.content or "", usage, seconds)


def _ensure_tiny_model(folder: Path) -> str:
    """Write the tiny model into `folder` unless a model is there: whole or not at all (it is
    written beside the folder and renamed into place, so an interrupted demo leaves no half
    model that the next one would serve), and never into a folder that holds something else."""
    shown = shown_path(folder)
    if (folder / "config.json").is_file():
        return f"{shown} is there already (delete it to write a fresh tiny model)"
    if folder.is_file() or (folder.is_dir() and any(folder.iterdir())):
        what = "a file" if folder.is_file() else "a folder with files but no config.json"
        raise UserError(
            f"the plan's model folder {shown} is {what}, not a model: the demo writes the tiny model only "
            f"into a new or empty folder; move it away (or point MDEPLOY_LOCAL_MODEL elsewhere)"
        )
    from engine.local.tiny_model import write_tiny_chat_model

    started = time.monotonic()
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}.partial-", dir=folder.parent))
        try:
            write_tiny_chat_model(partial)
            os.replace(partial, folder)  # replaces an empty folder, atomically
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    except OSError as exc:
        raise UserError(f"cannot write the tiny model to {shown}: {exc.strerror or exc}") from None
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
    return (
        f"wrote the tiny test model to {shown} ({size / 1e6:.1f} MB of random weights and a "
        f"tokenizer, in {time.monotonic() - started:.0f} s)"
    )


@contextmanager
def _open_log(path: Path) -> Iterator[TextIO]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log_file = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write the engine's log {shown_path(path)}: {exc.strerror or exc}") from None
    with log_file:
        yield log_file


def _require_local_extra() -> None:
    """The demo needs the `local` extra (torch, transformers, openai): say so before starting."""
    import importlib.util

    missing = [name for name in ("torch", "transformers", "openai") if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"the demo needs {', '.join(missing)}, from the local extra: {LOCAL_EXTRA}")
