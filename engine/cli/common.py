"""What several `mdeploy` commands share: the MANIFEST positional, `--env`, `--format`, and
planning the manifest for the chosen environment, so each is worded and resolved in one place.

Top-level imports are argparse only: command modules import this at their top, and `mdeploy
--help` imports only the chosen command. The planner is imported when a command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from types import FrameType

    from engine.blueprint.model import Blueprint
    from engine.planner.plan import PlannedApp


class Subcommands(Protocol):
    """What a command module's `register(subparsers)` is given (engine/cli/main.py): argparse's
    `add_parser`, which fills in the command's one-line help when `help` is not passed."""

    def add_parser(self, name: str, **kwargs: object) -> argparse.ArgumentParser: ...


MANIFEST_HELP = "the base manifest (YAML or TOML)"
ENV_HELP = "Modal environment (default: MODAL_ENVIRONMENT, else main)"
FORMATS = ("text", "markdown", "json")


def add_manifest_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("manifest", metavar="MANIFEST", help=MANIFEST_HELP)


def add_env_argument(parser: argparse.ArgumentParser, help: str = ENV_HELP) -> None:
    parser.add_argument("--env", help=help)


def add_format_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """`--format text|markdown|json`, text by default; `help` says what each is for here."""
    parser.add_argument("--format", choices=FORMATS, default="text", help=help)


def chosen_environment(args: argparse.Namespace) -> str | None:
    """`--env`, else MODAL_ENVIRONMENT, else None (the planner then uses Modal's default, main)."""
    from engine.manifest.load import resolve_environment

    return resolve_environment(args.env)


def manifest_path(args: argparse.Namespace, given: str | None = None) -> Path:
    """MANIFEST as a path; an overlay named instead of its base is a UserError that says what
    to type (planned alone, an overlay reports every key it leaves to its base as missing)."""
    from pathlib import Path

    from engine.errors import UserError
    from engine.manifest.load import overlay_target

    path = Path(args.manifest if given is None else given)
    target = overlay_target(path) if path.is_file() else None
    if target:
        import shlex

        base, env = target
        key = f" {shlex.quote(args.key)}" if getattr(args, "key", None) else ""
        raise UserError(
            f"{path.as_posix()} is the {env!r} overlay of {base.as_posix()}, not a manifest; "
            f"name the base: mdeploy {args.command} {shlex.quote(base.as_posix())} --env {env}{key}"
        )
    return path


def plan_manifest(args: argparse.Namespace) -> Blueprint:
    """The Blueprint of MANIFEST in the chosen environment."""
    return plan_manifest_with_origins(args).blueprint


def overlay_hint(env: str, manifests: Sequence[Path]) -> str:
    """For an `--env ENV` that has no overlay: the close name, else the environments that do ("" if none)."""
    import difflib

    from engine.manifest.load import environments_of

    known = sorted({name for manifest in manifests for name in environments_of(manifest)})
    close = difflib.get_close_matches(env, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (overlays exist for: {', '.join(known)})" if known else ""


def missing_overlay_note(path: Path, env: str | None) -> str | None:
    """When `--env ENV` was given and the manifest at `path` has no overlay for it: the note to
    print (it plans as its base). None when no --env was given, or it is `main`: MODAL_ENVIRONMENT
    or Modal's default environment without an overlay is the usual case, not a slip."""
    from engine.manifest.load import display_path, environments_of, overlay_target
    from engine.planner.defaults import DEFAULT_ENVIRONMENT

    if not env or env == DEFAULT_ENVIRONMENT:  # `--env main` with no main overlay: the base is main's
        return None
    named = overlay_target(str(path)) if path.is_file() else None
    if named is not None or env in environments_of(path):
        return None  # an overlay named itself: its base in its own environment, checked elsewhere
    hint = overlay_hint(env, [path])
    return f"note: {display_path(path)} has no overlay for environment {env!r}{hint}; planned as its base alone"


def note_missing_overlay(path: Path, env: str | None) -> None:
    """Print `missing_overlay_note` on stderr, if any: stdout may be a plan, JSON or a diff."""
    import sys

    note = missing_overlay_note(path, env)
    if note:
        print(note, file=sys.stderr)


def plan_manifest_with_origins(args: argparse.Namespace) -> PlannedApp:
    """The Blueprint of MANIFEST in the chosen environment, with the planner's origin record; an
    `--env` with no overlay for this manifest gets a note on stderr (a typo'd --env plans the base)."""
    from engine.planner.plan import plan_file_with_origins

    path = manifest_path(args)
    planned = plan_file_with_origins(path, chosen_environment(args))
    note_missing_overlay(path, args.env)
    return planned


def nearest_existing(path: Path) -> Path:
    """`path`, or its nearest ancestor that exists: where an output's missing folders would be
    made, so a file there (not a folder) is what a write would trip over."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


class Stopped(BaseException):
    """SIGTERM, raised in the main thread (see `stop_on_sigterm`) so that a command running an
    engine stops its whole process tree on the way out, as Ctrl-C does; exit with `exit_code`."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def stop_on_sigterm() -> None:
    """From now on, SIGTERM raises `Stopped` in the main thread."""
    import signal

    def terminate(signum: int, _frame: FrameType | None) -> NoReturn:
        raise Stopped(signum)

    signal.signal(signal.SIGTERM, terminate)
