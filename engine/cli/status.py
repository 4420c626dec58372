"""`mdeploy status MANIFEST --env ENV`: what runs for a manifest, object by object.

Per server and function of the manifest (and any the deployed app has that the manifest lacks):
its state (deployed, missing), its URL (as Modal reports it), the containers that ran in the last
hour, and the errors of that hour (container errors, failed requests or calls); with the app's
state, live version and tag (decoded: which commit, and whether its content is what the manifest
plans now). Modal calls: `modal app info`, `modal app stats`, `modal app history`, and
`modal server|function info` for each object on HTTP.
"""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands, add_format_argument
from engine.cli.operate_common import add_app_arguments

NAME = "status"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="Show what the deployed app of a manifest runs: per object its state, URL, "
        "containers and the errors of the last hour, and which commit is live.",
    )
    add_app_arguments(parser)
    add_format_argument(parser, "text (terminal), markdown or json")
    return parser


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from engine.cli.operate_common import plan_names, print_calls, require_credentials
    from engine.operate.status import collect_status, status_calls

    blueprint, names, shown = plan_names(args)
    if args.dry_run:
        print_calls(status_calls(shown))
        return 0
    require_credentials(NAME)
    status = collect_status(blueprint, names)
    if args.format == "json":
        from engine.blueprint.codec import to_data

        sys.stdout.write(json.dumps(to_data(status), indent=2) + "\n")
    else:
        from engine.operate.status import render_status

        sys.stdout.write(render_status(status, args.format))
    return 0
