"""`mdeploy cost MANIFEST --env ENV [--actual --since 7d] [--offline]`: what the manifest costs.

The plan's estimate (idle and peak per hour, GPU, CPU and memory), priced with Modal's live rates
(`modal billing rates`) when credentials exist, else with the table in engine/plan/prices.json,
whose date is shown. `--actual` adds what the app cost over `--since` from Modal's billing report
(`modal billing report --show-resources`), beside the estimate, by resource, with the manifest's
app tags.
"""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands
from engine.cli.operate_common import add_app_arguments

NAME = "cost"
DEFAULT_SINCE = "7d"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="Estimate what the manifest costs per hour (live Modal rates when credentials "
        "exist, else the price table) and, with --actual, what the deployed app cost.",
    )
    add_app_arguments(parser)
    parser.add_argument("--actual", action="store_true", help="add the app's cost from Modal's billing report")
    parser.add_argument(
        "--since",
        help=f"window of --actual: 7d, 12h or a date 2026-11-01 (default {DEFAULT_SINCE})",
    )
    parser.add_argument("--offline", action="store_true", help="price with the table only; call nothing")
    parser.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="text, markdown or json")
    return parser


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from engine.cli.deploy import missing_credentials
    from engine.cli.operate_common import plan_app, print_calls, require_credentials
    from engine.errors import UserError
    from engine.operate import billing
    from engine.operate.cost_report import cost_report, render_cost_report

    if args.since is not None and not args.actual:
        raise UserError(f"--since {args.since!r} is the window of --actual, which was not given; add --actual")
    if args.offline and args.actual:
        raise UserError("--offline calls nothing, but --actual reads Modal's billing report: give one of them")
    planned, names, _shown = plan_app(args)
    blueprint = planned.blueprint
    window = billing.parse_since(args.since or DEFAULT_SINCE) if args.actual else None
    calls = [] if args.offline else [billing.rates_call()]
    if window is not None:
        calls.append(billing.report_call(window, sorted(blueprint.tags)))
    if args.dry_run:
        print_calls(calls) if calls else print("would run: nothing (--offline prices with the table)")
        return 0
    if window is not None:
        require_credentials(NAME)
    live = not args.offline and missing_credentials(os.environ, command=NAME) is None
    report = cost_report(blueprint, names, live_rates=live, window=window, origins=planned.origins)
    sys.stdout.write(render_cost_report(report, args.format))
    return 0
