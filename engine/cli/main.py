"""The `mdeploy` command: parse arguments, dispatch to one command module, turn errors into exits.

This is the one catch point (docs/architecture.md, "Errors"): a `ManifestError` prints its located problems
and exits 1, a `UserError` prints one line and exits with its code, Ctrl-C exits 130, and a reader
that closed the pipe early (`mdeploy validate manifests/ --all-envs | head -1`) ends the command
quietly with 141, the status of a Unix tool stopped by SIGPIPE. Anything else is a bug: it gets a
one-line report, and the traceback only with MDEPLOY_TRACEBACK=1.

Command modules are imported lazily, only the one being run, so `mdeploy --help` and
`mdeploy validate` never pay for modal, the engines or the local runner. Each module under
`engine/cli/` defines `register(subparsers)` (cheap: argparse only) and `run(args) -> int`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from engine.errors import UserError
from engine.manifest.errors import ManifestError

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

# command name -> (module, one-line help). The help lives here so `--help` imports nothing else.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("engine.cli.validate", "check manifests and their overlays; report every problem"),
    "schema": ("engine.cli.schema", "print or check the manifest JSON Schema"),
    "plan": ("engine.cli.plan", "show what a manifest deploys, with a cost estimate"),
    "deploy": ("engine.cli.deploy", "validate, show the plan, run `modal deploy`, smoke-check it"),
    "status": ("engine.cli.status", "each object's URL, state, containers and recent errors"),
    "logs": ("engine.cli.logs", "the logs of a manifest's app, or of one service or function"),
    "history": ("engine.cli.history", "the deployed versions of the manifest's app, with their commits"),
    "rollback": ("engine.cli.rollback", "roll the manifest's app back to an earlier version"),
    "drift": ("engine.cli.drift", "what the deployed app runs against what the manifest plans now"),
    "cost": ("engine.cli.cost", "the cost estimate at live rates, and what the app cost"),
    "diff": ("engine.cli.diff", "compare Blueprints across git refs or environments"),
    "explain": ("engine.cli.explain", "show a value and where it came from"),
    "eject": ("engine.cli.eject", "write a standalone Modal Python file for a manifest"),
    "preflight": ("engine.cli.preflight", "check secrets, volumes, model fit and cached weights against the world"),
    "serve": ("engine.cli.serve", "run a service of a manifest on this machine"),
    "run": ("engine.cli.run", "call a function of a manifest on this machine"),
    "bench": ("engine.cli.bench", "load-test an OpenAI-compatible endpoint"),
    "demo": ("engine.cli.demo", "serve the tiny chat model here, ask it one question, stop it"),
    "init": ("engine.cli.init", "write a first manifest (and an overlay) for a service or a function"),
}
# 128 + SIGPIPE: what a shell reports for a tool whose reader went away (`seq 1000000 | head -1`).
EXIT_BROKEN_PIPE = 141


class _Subcommands:
    """The subparsers action as a command module sees it (engine/cli/common.py's Subcommands):
    `add_parser(NAME, ...)` gets the command's one-line help from COMMANDS, so each summary is
    written once."""

    def __init__(self, action: argparse._SubParsersAction[_Parser]):
        self._action = action

    # Any: the keywords are argparse's own, passed through for add_parser to check.
    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        kwargs.setdefault("help", COMMANDS[name][1])
        return self._action.add_parser(name, **kwargs)


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, str | None]:
    parser = _Parser(
        prog="mdeploy",
        description="Declarative deployments for Modal: manifests in, Modal apps out.",
    )
    parser.add_argument("--version", action=_VersionAction, help="print mdeploy's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, summary) in COMMANDS.items():
        if name == chosen:
            importlib.import_module(module).register(_Subcommands(sub))
        else:
            sub.add_parser(name, help=summary, description=summary)
    return parser, chosen if chosen in COMMANDS else None


class _Parser(argparse.ArgumentParser):
    """argparse, minus its habit of ignoring a failed write of help or usage text: a closed pipe
    then ends `mdeploy --help | head -1` as it ends every other command (subcommands' parsers
    are of this class too: argparse makes them with the parent's class)."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        if message:
            (file or sys.stderr).write(message)


class _VersionAction(argparse.Action):
    """argparse's `version` action, with the version looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> NoReturn:
        print(f"mdeploy {package_version()}")
        parser.exit()


def package_version() -> str:
    """The installed distribution's version; a checkout run without installing reads pyproject.toml."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mdeploy")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "unknown (not installed)"


def _redacted(text: str) -> str:
    """Last line of defence: no token shape leaves through an error message, whoever wrote it."""
    from engine.manifest.models.secrets_scan import redact  # only on the error path

    return redact(text) or ""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = _main(argv)
        sys.stdout.flush()  # here, so a reader that left is seen below rather than at exit
        return code
    except SystemExit:  # argparse's --help, --version and usage errors end this way
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_BROKEN_PIPE
        raise
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str]) -> int:
    parser, chosen = build_parser(argv)
    args = parser.parse_args(argv)
    if chosen is None:
        parser.print_help()
        return 2 if argv else 0
    module = importlib.import_module(COMMANDS[chosen][0])
    try:
        return int(module.run(args) or 0)
    except BrokenPipeError:
        raise
    except ManifestError as exc:
        print(_redacted(exc.format()), file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"error: {_redacted(exc.message)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the one catch point for bugs
        if os.environ.get("MDEPLOY_TRACEBACK"):
            traceback.print_exc()
        else:
            print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "this is a bug in mdeploy; rerun with MDEPLOY_TRACEBACK=1 and report the traceback",
                file=sys.stderr,
            )
        return 70


def _silence_stdout() -> None:
    """Point stdout at /dev/null: the interpreter flushes it once more on exit, and a write to the
    closed pipe there would print "Exception ignored ... BrokenPipeError" (Python's own advice,
    in the `signal` module's notes on SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no stdout file descriptor to replace
        pass


if __name__ == "__main__":
    sys.exit(main())
