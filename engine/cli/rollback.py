"""`mdeploy rollback MANIFEST --env ENV [VERSION] [--strategy S]`: redeploy an earlier version.

Runs `modal app rollback APP [vN]`: without VERSION, the version before the live one. Versions are
the numbers `mdeploy history` shows. The rollback is a new entry of the app's history.
"""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands
from engine.cli.operate_common import add_app_arguments, allow_positionals_after_options

NAME = "rollback"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    from engine.cli.deploy_checks import add_strategy_argument

    parser = subparsers.add_parser(
        NAME,
        description="Redeploy an earlier version of the deployed app (modal app rollback); "
        "without VERSION, the previous one.",
    )
    add_app_arguments(parser)
    allow_positionals_after_options(parser)
    parser.add_argument("version", metavar="VERSION", nargs="?", help="a version from `mdeploy history` (3 or v3)")
    add_strategy_argument(parser, "how Modal replaces running containers (Modal's default: rolling)")
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.cli.operate_common import plan_names, print_calls, require_credentials
    from engine.operate import modal_cli
    from engine.operate.lifecycle import rollback_call

    _blueprint, names, shown = plan_names(args)
    rollback = rollback_call(names, args.version, args.strategy)
    if args.dry_run:
        print_calls([rollback_call(shown, args.version, args.strategy)])
        return 0
    require_credentials(NAME)
    print(f"running: {rollback.shown}", flush=True)
    return modal_cli.stream(rollback)
