"""`mdeploy schema [-o FILE] [--check]`: print, write or check the manifest JSON Schema.

The schema is generated from the models. `--check` compares the generated schema with the
checked-in file (`-o FILE`, default `schemas/manifest.schema.json` of the checkout that holds
this package, else of the current directory) and exits 1 when they differ, so CI catches a model
change whose schema was not regenerated.
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
        "--check",
        action="store_true",
        help="exit 1 if FILE (default: schemas/manifest.schema.json) differs from the generated schema",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from engine.errors import UserError
    from engine.manifest.schema import default_schema_path, render_schema

    text = render_schema()
    if args.check:
        path = Path(args.output) if args.output else default_schema_path()
        if not path.is_file():
            raise UserError(f"{path}: no schema file to check; write it with `mdeploy schema -o {path}`")
        if path.read_text(encoding="utf-8") != text:
            print(
                f"{path} is out of date with the manifest models; regenerate it with `mdeploy schema -o {path}`",
                file=sys.stderr,
            )
            return 1
        print(f"{path} is up to date")
        return 0
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return 0
    sys.stdout.write(text)
    return 0
