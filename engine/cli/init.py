"""`mdeploy init [PATH]`: write a first manifest (and an overlay) that validates, never over a file."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Subcommands

if TYPE_CHECKING:
    from engine.init.choices import Choices

DESCRIPTION = """\
Write a first manifest for one thing to deploy: an LLM service (--kind llm: a Hub model or a
model folder on vLLM, SGLang, TensorRT-LLM or transformers), a FastAPI web app (--kind web) or a
scheduled function (--kind function; their handler module is written too when it is new). A Hub
model is pinned to a commit: --revision, else the commit of main on the Hub (asked with a short
timeout), else, offline, the one in the local Hugging Face cache; with none of them nothing is
written and the error says how to get one. On a terminal, init asks for every choice no flag
made; elsewhere the flags are the answers (--kind is needed). It never overwrites a file, and
every file it leaves validates: it plans the manifest (and the overlay's environment) as
`mdeploy validate` does, and takes the files back if that fails. PATH defaults to
manifests/APP.yaml."""


def register(subparsers: Subcommands) -> None:
    from engine.init.choices import DEFAULT_ENGINE, DEFAULT_GPU, DEFAULT_KEY, DEFAULT_SCHEDULE, ENGINES, KINDS

    parser = subparsers.add_parser("init", description=DESCRIPTION)
    parser.add_argument("path", metavar="PATH", nargs="?", help="the manifest to write (default: manifests/APP.yaml)")
    parser.add_argument(
        "--kind", choices=KINDS, help="llm: a model service; web: a FastAPI app; function: a scheduled job"
    )
    parser.add_argument("--app", help="the Modal app's name (default: from the model, else web-app or jobs)")
    parser.add_argument(
        "--name",
        help=f"the service's or function's key (default: {', '.join(f'{k} for {v}' for v, k in DEFAULT_KEY.items())})",
    )
    parser.add_argument("--overlay", metavar="ENV", help="also write the overlay for environment ENV (e.g. prod)")
    llm = parser.add_argument_group("--kind llm")
    llm.add_argument("--engine", choices=ENGINES, help=f"the serving engine (default: {DEFAULT_ENGINE})")
    llm.add_argument("--model", metavar="ORG/NAME", help="a Hugging Face model repo")
    llm.add_argument(
        "--revision", metavar="COMMIT", help="the commit to pin (default: main's, from the Hub or the local cache)"
    )
    llm.add_argument("--model-path", metavar="DIR", help="instead of --model: a folder with config.json")
    gpus = ", ".join(f"{gpu} for {engine}" for engine, gpu in DEFAULT_GPU.items())
    llm.add_argument("--gpu", help=f"the GPU on Modal (default: {gpus})")
    code = parser.add_argument_group("--kind web, --kind function")
    code.add_argument(
        "--handler", metavar="MODULE:ATTR", help="the app or function (default: workloads.APP:app, workloads.APP:main)"
    )
    code.add_argument(
        "--schedule",
        help=f'--kind function: a cron line in UTC or an interval like "4h" (default: "{DEFAULT_SCHEDULE}")',
    )
    parser.add_argument(
        "--no-input", action="store_true", help="never ask, even on a terminal: missing flags take their defaults"
    )


def run(args: argparse.Namespace) -> int:
    import os
    import shlex
    import sys
    from pathlib import Path

    from engine.cli.validate import summarize
    from engine.init.choices import Choices, completed, filled
    from engine.init.revision import pin_revision
    from engine.init.write import plan_files, refuse_existing, write_and_validate
    from engine.local.state import shown_path

    given = Choices(
        kind=args.kind,
        engine=args.engine,
        model_id=args.model,
        model_path=args.model_path,
        revision=args.revision,
        app=args.app,
        key=args.name,
        gpu=args.gpu,
        handler=args.handler,
        schedule=args.schedule,
        overlay=args.overlay,
        path=Path(args.path) if args.path else None,
    )
    if sys.stdin.isatty() and not args.no_input:
        from engine.init.prompts import ask_missing

        given = ask_missing(given, _ask_on_terminal)
    choices = completed(given)
    refuse_existing(choices)  # before asking the Hub: an existing file is the quicker answer
    pinned = None
    if choices.model_id is not None:
        pinned = pin_revision(choices.model_id, choices.revision, os.environ, _rerun_command(choices))
        print(f"pinned {choices.model_id} to {pinned.commit} ({pinned.how})")
    files, notes = plan_files(choices, pinned)
    checked = write_and_validate(choices, files, os.environ)
    for file in files:
        print(f"wrote {shown_path(file.path)} ({file.what})")
    manifest = shlex.quote(shown_path(filled(choices.path, "path")))
    for env, validated in checked:
        print(f"ok {manifest} [{env}]: {summarize(validated)}")
    for note in notes:
        print(f"note: {note}")
    print("next:")
    print(f"  mdeploy plan {manifest}" + (f" --env {choices.overlay}" if choices.overlay else ""))
    if choices.kind == "function":
        print(f"  mdeploy run {manifest} {choices.key}")
    elif choices.kind == "web" or choices.engine == "transformers":
        print(f"  mdeploy serve {manifest}")
    print(f"  mdeploy deploy {manifest} --env {choices.overlay or 'ENV'}")
    return 0


def _ask_on_terminal(question: str, default: str | None) -> str:
    shown = f" [{default}]" if default else ""
    try:
        answer = input(f"{question}{shown}: ").strip()
    except EOFError:
        answer = ""
    return answer or (default or "")


def _rerun_command(choices: Choices) -> str:
    """The command line that writes the same files, for the message that asks for --revision
    (of completed choices of a Hub model)."""
    import shlex

    from engine.init.choices import filled

    words = [
        "mdeploy",
        "init",
        filled(choices.path, "path").as_posix(),
        "--kind",
        "llm",
        "--engine",
        filled(choices.engine, "engine"),
        "--model",
        filled(choices.model_id, "model_id"),
    ]
    words += ["--app", filled(choices.app, "app"), "--name", filled(choices.key, "key")]
    words += ["--gpu", filled(choices.gpu, "gpu")]
    if choices.overlay:
        words += ["--overlay", choices.overlay]
    return " ".join(shlex.quote(w) for w in words)
