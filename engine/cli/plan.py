"""`mdeploy plan MANIFEST [--env ENV] [--format text|markdown|json]`: what a manifest deploys.

Validates and plans the manifest (with its overlay for the environment) and prints the
Blueprint: every object, its GPU and scaling, image steps, launch commands and a GPU cost
estimate; a value that came from a `${VAR}` is shown as that reference. `--format json` prints
the Blueprint itself, exactly what the container receives (env entries from variables are there
as the manifest's text; their values travel only at deploy).
"""

from __future__ import annotations

import argparse

from engine.cli.common import (
    Subcommands,
    add_env_argument,
    add_format_argument,
    add_manifest_argument,
    plan_manifest_with_origins,
)

NAME = "plan"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description=(
            "Validate and plan a manifest for one environment and print every Modal object it "
            "holds, fully resolved, with an idle and peak GPU cost estimate."
        ),
    )
    add_manifest_argument(parser)
    add_env_argument(parser)
    add_format_argument(parser, "text (terminal), markdown (pull requests) or json (the Blueprint itself)")
    return parser


def run(args: argparse.Namespace) -> int:
    import sys

    from engine.plan.render_plan import render_plan

    planned = plan_manifest_with_origins(args)
    sys.stdout.write(render_plan(planned.blueprint, args.format, origins=planned.origins))
    return 0
