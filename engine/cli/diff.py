"""`mdeploy diff`: what a change does to the deployed app, object by object, field by field.

    mdeploy diff MANIFEST --env prod --against REF        the working tree against a git ref
    mdeploy diff MANIFEST --env dev --against-env prod    one environment against another
    mdeploy diff --changed --against REF [PATH ...]       every manifest and environment under
                                                          PATHs whose Blueprint changed

The git side is read with `git show` (nothing is checked out). A manifest invalid at the ref
shows as all added, with a note saying so; invalid in the working tree, it is an error.
`--exit-code` exits 2 when something changed, for CI. Blueprints hold no secret values, so
neither does a diff.
"""

from __future__ import annotations

import argparse

from engine.cli.common import (
    Subcommands,
    add_env_argument,
    add_format_argument,
    chosen_environment,
    manifest_path,
    note_missing_overlay,
)

NAME = "diff"
CHANGED_EXIT_CODE = 2


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description=(
            "Compare the Blueprint of a manifest with the same manifest at a git ref (--against) "
            "or in another environment (--against-env); --changed compares every manifest under "
            "the given paths (default: the current directory) in every environment."
        ),
    )
    parser.add_argument(
        "paths",
        metavar="MANIFEST|PATH",
        nargs="*",
        help="a base manifest; with --changed, manifests or directories to search",
    )
    add_env_argument(parser, help="Modal environment of the new side (default: MODAL_ENVIRONMENT, else main)")
    against = parser.add_mutually_exclusive_group(required=True)
    against.add_argument(
        "--against", metavar="REF", help="git ref to compare the working tree with (HEAD, main, a tag)"
    )
    against.add_argument("--against-env", metavar="ENV", help="environment to compare --env with")
    parser.add_argument(
        "--changed",
        action="store_true",
        help="every manifest and environment under PATHs whose Blueprint changed since --against REF",
    )
    add_format_argument(parser, "text, markdown (pull requests) or json")
    parser.add_argument("--exit-code", action="store_true", help=f"exit {CHANGED_EXIT_CODE} when something changed")
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from engine.errors import UserError
    from engine.plan.render_diff import render_diffs
    from engine.review import compare

    paths = [Path(p) for p in args.paths]
    if args.changed:
        if args.against is None:
            raise UserError("--changed compares with a git ref: give --against REF")
        if args.env is not None:
            raise UserError("--changed compares every environment; leave out --env")
        diffs = compare.diff_changed_against_ref(paths, args.against)
    else:
        if len(paths) != 1:
            raise UserError(f"give one MANIFEST (or --changed to compare every manifest under PATHs); got {len(paths)}")
        env = chosen_environment(args)
        manifest = manifest_path(args, args.paths[0])
        if args.against is not None:
            diffs = [compare.diff_against_ref(manifest, env, args.against)]
        else:
            diffs = [compare.diff_across_environments(manifest, args.against_env, env)]
            note_missing_overlay(manifest, args.against_env)
        note_missing_overlay(manifest, args.env)
    if args.changed and not diffs and args.format != "json":
        sys.stdout.write(
            f"no Blueprint changed since {args.against}\n"
            if args.format == "text"
            else f"_No Blueprint changed since `{args.against}`._\n"
        )
    else:
        sys.stdout.write(render_diffs(diffs, args.format))
    changed = any(item.diff.changed for item in diffs)
    return CHANGED_EXIT_CODE if args.exit_code and changed else 0
