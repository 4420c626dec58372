"""`mdeploy drift MANIFEST --env ENV [--format F] [--exit-code]`: the deployed app against the plan.

What the deployed app runs (objects, GPUs, resources, scaling with run-time autoscaler overrides,
and, when the live version's commit is known, images and launch commands) against what the
manifest plans now, printed by the same renderer as `mdeploy diff` (engine/operate/drift.py says
how the deployed side is read). `--exit-code` exits 2 on drift, for a scheduled CI job.
"""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands, add_format_argument
from engine.cli.operate_common import add_app_arguments

NAME = "drift"
DRIFT_EXIT_CODE = 2


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="Compare the deployed app, as Modal reports it, with the manifest's plan now, "
        "field by field; fields Modal cannot report are named.",
    )
    add_app_arguments(parser)
    add_format_argument(parser, "text, markdown (an issue or a pull request) or json")
    parser.add_argument("--exit-code", action="store_true", help=f"exit {DRIFT_EXIT_CODE} when the app drifted")
    return parser


def run(args: argparse.Namespace) -> int:
    import sys

    from engine.cli.common import chosen_environment, manifest_path
    from engine.cli.operate_common import plan_names, print_calls, require_credentials
    from engine.operate.drift_report import compare_with_deployed, drift_calls, render_drift

    blueprint, names, shown = plan_names(args)
    if args.dry_run:
        print_calls(drift_calls(shown))
        print("  and the same two calls for any object the deployed app has that the manifest lacks")
        return 0
    require_credentials(NAME)
    report = compare_with_deployed(blueprint, names, manifest_path(args), chosen_environment(args))
    sys.stdout.write(render_drift(report, args.format))
    return DRIFT_EXIT_CODE if args.exit_code and report.drifted else 0
