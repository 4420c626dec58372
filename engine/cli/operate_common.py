"""What the commands that talk to a deployed app share: MANIFEST --env [--dry-run], the offline
credential check, and printing the Modal calls a dry run would make.

Top-level imports are argparse only (see common.py): `mdeploy --help` stays light.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING

from engine.cli.common import add_env_argument, add_manifest_argument

if TYPE_CHECKING:
    from engine.blueprint.model import Blueprint
    from engine.operate.modal_cli import ModalCall
    from engine.operate.names import ModalNames
    from engine.planner.plan import PlannedApp

ENV_HELP = "Modal environment (default: MODAL_ENVIRONMENT, else Modal's own default)"
DRY_RUN_HELP = "print the Modal commands it would run, run none; needs no Modal credentials"


def add_app_arguments(parser: argparse.ArgumentParser, *, dry_run: bool = True) -> None:
    add_manifest_argument(parser)
    add_env_argument(parser, help=ENV_HELP)
    if dry_run:
        parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)


class _IntermixedParser(argparse.ArgumentParser):
    """Positionals may follow options: `mdeploy rollback MANIFEST --env prod 3`. Plain argparse
    gives an optional positional its (empty) value at the first run of positionals, and then
    refuses the `3`; `parse_known_intermixed_args` reads every positional wherever it is."""

    _inside = False

    # argparse's overloads type the result by the namespace passed in; this one only forwards it.
    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._inside:  # the intermixed parse calls back here for each of its two passes
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def allow_positionals_after_options(parser: argparse.ArgumentParser) -> None:
    parser.__class__ = _IntermixedParser


def require_credentials(command: str | None) -> None:
    """One `error:` line, before any Modal call, when Modal would find no token (read offline);
    `command`: the one whose --dry-run needs none (None: it has no --dry-run)."""
    import os

    from engine.cli.deploy import missing_credentials
    from engine.errors import UserError

    problem = missing_credentials(os.environ, command=command)
    if problem:
        raise UserError(problem)


def plan_names(args: argparse.Namespace) -> tuple[Blueprint, ModalNames, ModalNames]:
    """The manifest's Blueprint for the chosen environment, the Modal names it deploys as, and
    those names as a dry run shows them (a name from a variable as its `${VAR}`)."""
    planned, names, shown = plan_app(args)
    return planned.blueprint, names, shown


def plan_app(args: argparse.Namespace) -> tuple[PlannedApp, ModalNames, ModalNames]:
    """`plan_names`, with the whole planned app (its origins, for renderers that show a value from
    a variable as its reference)."""
    from engine.cli.common import chosen_environment, plan_manifest_with_origins
    from engine.operate.names import modal_names, shown_names

    env = chosen_environment(args)
    planned = plan_manifest_with_origins(args)
    names = modal_names(planned.blueprint, env)
    return planned, names, shown_names(names, planned.origins)


def print_calls(calls: Sequence[ModalCall], heading: str = "would run:") -> None:
    print(heading)
    for modal_call in calls:
        print(f"  {modal_call.shown}")
