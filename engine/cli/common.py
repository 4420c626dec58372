"""What several `mdeploy` commands share: the MANIFEST positional, `--env`, `--format`, and
planning the manifest for the chosen environment, so each is worded and resolved in one place.

Top-level imports are argparse only: command modules import this at their top, and `mdeploy
--help` imports only the chosen command. The planner is imported when a command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.blueprint.model import Blueprint

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


def plan_manifest(args: argparse.Namespace) -> Blueprint:
    """The Blueprint of MANIFEST in the chosen environment."""
    from pathlib import Path

    from engine.blueprint.planner import plan_file

    return plan_file(Path(args.manifest), chosen_environment(args))
