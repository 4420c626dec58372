"""`mdeploy history MANIFEST --env ENV`: the deployed versions and the commit behind each.

Runs `modal app history APP --json` and decodes mdeploy's deploy tags (`<commit>-<content hash>`),
so each version says which commit it came from and whether its content is what the manifest
plans now.
"""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands
from engine.cli.operate_common import add_app_arguments

NAME = "history"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="List the deployments of the app, newest first, with the commit and content "
        "each came from (decoded from mdeploy's deploy tags).",
    )
    add_app_arguments(parser)
    parser.add_argument("--format", choices=("text", "json"), default="text", help="text (terminal) or json")
    return parser


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from engine.blueprint.codec import to_data
    from engine.cli.operate_common import plan_names, print_calls, require_credentials
    from engine.operate import modal_cli
    from engine.operate.history import history_rows, render_history
    from engine.operate.readback import history_call, parse_history
    from engine.operate.tagging import content_hash

    blueprint, names, shown = plan_names(args)
    history = history_call(names)
    if args.dry_run:
        print_calls([history_call(shown)])
        return 0
    require_credentials(NAME)
    rows = history_rows(parse_history(modal_cli.read_or_fail(history)), content_hash(blueprint))
    if args.format == "json":
        sys.stdout.write(json.dumps([to_data(r) for r in rows], indent=2) + "\n")
    else:
        sys.stdout.write(render_history(names.app, names.env, rows))
    return 0
