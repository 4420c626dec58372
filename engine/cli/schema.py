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
            if path.is_dir():
                raise UserError(f"{path}: is a folder, not a schema file")
            if not path.is_file():
                raise UserError(f"{path}: no schema file to check; write it with `{_write_command(path, overlay)}`")
            if _read_or_none(path) != render_schema(overlay=overlay):
                print(f"{path} is out of date with the manifest models; regenerate it with "
                      f"`{_write_command(path, overlay)}`", file=sys.stderr)
                stale += 1
            else:
                print(f"{path} is up to date")
        return 1 if stale else 0
    text = render_schema(overlay=args.overlay)
    if args.output:
        path = Path(args.output)
        if path.is_dir():
            raise UserError(f"{path}: is a folder; give a file name, e.g. {path / 'manifest.schema.json'}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{path}: cannot write it ({exc.strerror or exc})") from None
        print(f"wrote {path}")
        return 0
    sys.stdout.write(text)
    return 0


def _read_or_none(path) -> str | None:
    """The file's text; None when it is not UTF-8 text (so it is reported as out of date, and
    regenerating it is the fix). Unreadable files are a UserError."""
    from engine.errors import UserError

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _write_command(path, overlay: bool) -> str:
    return f"mdeploy schema{' --overlay' if overlay else ''} -o {path}"
