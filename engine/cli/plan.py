"""`mdeploy plan MANIFEST [--env ENV] [--format text|markdown|json]`: what a manifest deploys.

Validates and plans the manifest (with its overlay for the environment) and prints the
Blueprint: every object, its GPU and scaling, image steps, launch commands and a GPU cost
estimate. `--format json` prints the Blueprint itself, exactly what the container receives.
"""

from __future__ import annotations

import argparse

NAME = "plan"
FORMATS = ("text", "markdown", "json")


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        help="show what a manifest deploys, with a cost estimate",
        description=(
            "Validate and plan a manifest for one environment and print every Modal object it "
            "holds, fully resolved, with an idle and peak GPU cost estimate."
        ),
    )
    parser.add_argument("manifest", metavar="MANIFEST", help="the base manifest (YAML or TOML)")
    parser.add_argument("--env", help="Modal environment (default: MODAL_ENVIRONMENT, else main)")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (terminal), markdown (pull requests) or json (the Blueprint itself)",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from engine.blueprint.planner import plan_file
    from engine.manifest.load import resolve_environment
    from engine.plan.render_plan import render_plan

    blueprint = plan_file(Path(args.manifest), resolve_environment(args.env))
    sys.stdout.write(render_plan(blueprint, args.format))
    return 0
