"""`mdeploy schema [--overlay] [-o FILE] [--check]`: print, write or check the JSON Schemas.

Both schemas are generated from the models: the manifest schema, and the overlay schema (the same
with nothing required and `null` allowed, for `NAME.ENV.yaml` files). `--check` compares the
generated schemas with the checked-in files (`schemas/` of the checkout that holds this package,
else of the current directory; or `-o FILE` for one of them) and exits 1 when one differs, so CI
catches a model change whose schemas were not regenerated.
"""

from __future__ import annotations

import argparse

NAME = "schema"


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        help="print or check the manifest JSON Schema",
        description="Print the manifest JSON Schema generated from the models, write it to a file, or check a file is current.",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write the schema to FILE (with --check: the file to compare)")
    parser.add_argument(
        "--overlay",
        action="store_true",
        help="the schema for overlay files (NAME.ENV.yaml): nothing required, null deletes a key",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the checked-in schemas (schemas/manifest.schema.json and "
        "schemas/manifest-overlay.schema.json, or FILE) differ from the generated ones",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from engine.errors import UserError
    from engine.manifest.schema import default_schema_path, render_schema

    if args.check:
        if args.output:
            targets = [(Path(args.output), args.overlay)]
        else:
            targets = [(default_schema_path(overlay=overlay), overlay) for overlay in (False, True)]
        stale = 0
        for path, overlay in targets:
            if not path.is_file():
                raise UserError(f"{path}: no schema file to check; write it with `{_write_command(path, overlay)}`")
            if path.read_text(encoding="utf-8") != render_schema(overlay=overlay):
                print(f"{path} is out of date with the manifest models; regenerate it with "
                      f"`{_write_command(path, overlay)}`", file=sys.stderr)
                stale += 1
            else:
                print(f"{path} is up to date")
        return 1 if stale else 0
    text = render_schema(overlay=args.overlay)
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    sys.stdout.write(text)
    return 0


def _write_command(path, overlay: bool) -> str:
    return f"mdeploy schema{' --overlay' if overlay else ''} -o {path}"
