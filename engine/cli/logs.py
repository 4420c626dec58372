"""`mdeploy logs MANIFEST [OBJECT] --env ENV [filters]`: the app's logs, or one object's.

OBJECT is a service or function key of the manifest; mdeploy finds Modal's name for it and runs
`modal server logs APP/NAME` or `modal function logs APP/NAME` (the whole app: `modal app logs`),
with Modal's own filters passed through. Output streams as Modal prints it.
"""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands
from engine.cli.operate_common import add_app_arguments, allow_positionals_after_options

NAME = "logs"
SOURCES = ("stdout", "stderr", "system")


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="Fetch or follow the logs of the deployed app, or of one of its services or "
        "functions (by manifest key), with Modal's filters.",
    )
    add_app_arguments(parser)
    allow_positionals_after_options(parser)
    parser.add_argument("object", metavar="OBJECT", nargs="?", help="a service or function key of the manifest")
    parser.add_argument("-f", "--follow", action="store_true", help="stream new lines until interrupted")
    parser.add_argument("--since", help="start: ISO 8601 time or relative (2h, 1d)")
    parser.add_argument("--until", help="end: same forms as --since")
    parser.add_argument("-n", "--tail", type=int, help="only the last N entries")
    parser.add_argument("--search", help="only lines containing this text")
    parser.add_argument("-s", "--source", choices=SOURCES, help="only this stream")
    parser.add_argument("--container", metavar="TA_ID", help="only this container (ta-...)")
    parser.add_argument("--timestamps", action="store_true", help="prefix each line with its time")
    parser.add_argument("--show-container-id", action="store_true", help="prefix each line with its container")
    return parser


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from engine.cli.operate_common import plan_names, print_calls, require_credentials
    from engine.operate import modal_cli
    from engine.operate.logs import LogFilters, logs_call

    _blueprint, names, shown = plan_names(args)
    obj = names.by_key(args.object) if args.object else None
    # Each filter option has the name of its LogFilters field.
    filters = LogFilters(**{f.name: getattr(args, f.name) for f in dataclasses.fields(LogFilters)})
    logs = logs_call(names, obj, filters)
    if args.dry_run:
        print_calls([logs_call(shown, shown.by_key(args.object) if args.object else None, filters)])
        return 0
    require_credentials(NAME)
    return modal_cli.stream(logs)
