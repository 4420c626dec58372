"""`mdeploy schema [--overlay | --reference] [-o FILE] [--check]`: print, write or check the JSON
Schemas and the manifest reference.

Everything here is generated from the models: the manifest schema, the overlay schema (the same
with nothing required and `null` allowed, for `NAME.ENV.yaml` files) and, with `--reference`, the
Markdown reference of every key (`docs/reference.md`). `--check` compares what is generated with
the checked-in files (`schemas/`, or `docs/reference.md` with `--reference`, of the checkout that
holds this package, else of the current directory; or `-o FILE`) and exits 1 when one differs, so
CI catches a model change whose schemas or reference were not regenerated.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Subcommands, nearest_existing

if TYPE_CHECKING:
    from pathlib import Path

NAME = "schema"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="Print the manifest JSON Schema generated from the models, write it to a file, or check a file is current.",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the schema to FILE (with --check: the file to compare)"
    )
    parser.add_argument(
        "--overlay",
        action="store_true",
        help="the schema for overlay files (NAME.ENV.yaml): nothing required, null deletes a key",
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="the Markdown reference of every manifest key (docs/reference.md) instead of a JSON Schema",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if the checked-in schemas (schemas/manifest.schema.json and "
        "schemas/manifest-overlay.schema.json; with --reference docs/reference.md; or FILE) differ from the generated ones",
    )
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from engine.errors import UserError
    from engine.manifest.schema import default_schema_path

    if args.overlay and args.reference:
        raise UserError("--overlay and --reference choose different outputs; give one of them")
    kind = "reference" if args.reference else "overlay" if args.overlay else "manifest"
    if args.output:
        _refuse_a_manifest_name(Path(args.output), kind)
    if args.check:
        if args.output:
            targets = [(Path(args.output), kind)]
        elif args.reference:
            from engine.manifest.reference import default_reference_path

            targets = [(default_reference_path(), kind)]
        else:
            targets = [
                (default_schema_path(overlay=overlay), "overlay" if overlay else "manifest")
                for overlay in (False, True)
            ]
        stale = 0
        for path, target_kind in targets:
            what = "reference" if target_kind == "reference" else "schema"
            if path.is_dir():
                raise UserError(f"{path}: is a folder, not a {what} file")
            if not path.is_file():
                raise UserError(f"{path}: no {what} file to check; write it with `{_write_command(path, target_kind)}`")
            if _read_or_none(path) != _render(target_kind):
                print(
                    f"{path} is out of date with the manifest models; regenerate it with "
                    f"`{_write_command(path, target_kind)}`",
                    file=sys.stderr,
                )
                stale += 1
            else:
                print(f"{path} is up to date")
        return 1 if stale else 0
    text = _render(kind)
    if args.output:
        path = Path(args.output)
        if path.is_dir():
            example = "reference.md" if args.reference else "manifest.schema.json"
            raise UserError(f"{path}: is a folder; give a file name, e.g. {path / example}")
        above = nearest_existing(path.parent)
        if not above.is_dir():  # mkdir would say only "File exists"
            raise UserError(f"{path}: cannot write it ({above} is a file, not a folder)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"{path}: cannot write it ({exc.strerror or exc})") from None
        print(f"wrote {path}")
        return 0
    sys.stdout.write(text)
    return 0


def _refuse_a_manifest_name(path: Path, kind: str) -> None:
    """`-o manifests/chat.yaml` (a slip for a manifest argument) would replace the manifest with
    JSON or Markdown, or tell --check to suggest doing so: the name is a manifest's, so refuse it."""
    from engine.errors import UserError
    from engine.manifest.load import MANIFEST_SUFFIXES

    if path.suffix.lower() in MANIFEST_SUFFIXES:
        what, example = ("Markdown", "reference.md") if kind == "reference" else ("JSON", "manifest.schema.json")
        raise UserError(
            f"{path}: a {path.suffix} file is a manifest, and `mdeploy schema` writes {what}; "
            f"name another file, e.g. {path.parent / example}"
        )


def _read_or_none(path: Path) -> str | None:
    """The file's text; None when it is not UTF-8 text (so it is reported as out of date, and
    regenerating it is the fix). Unreadable files are a UserError."""
    from engine.errors import UserError

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _render(kind: str) -> str:
    if kind == "reference":
        from engine.manifest.reference import render_reference

        return render_reference()
    from engine.manifest.schema import render_schema

    return render_schema(overlay=kind == "overlay")


def _write_command(path: Path, kind: str) -> str:
    flag = {"manifest": "", "overlay": " --overlay", "reference": " --reference"}[kind]
    return f"mdeploy schema{flag} -o {path}"
