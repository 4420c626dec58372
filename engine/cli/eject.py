"""`mdeploy eject MANIFEST --env ENV [-o app.py] [--force]`: write the app as plain Modal Python.

For teams that outgrow configuration: the file is equivalent to what `engine/entry.py` builds from
the same Blueprint, and from then on it is theirs. Without `-o` it goes to standard output.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Subcommands, add_env_argument, add_manifest_argument

if TYPE_CHECKING:
    from pathlib import Path

NAME = "eject"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description=(
            "Write a standalone Modal app (imports only `modal` and the standard library) equivalent "
            "to the manifest's Blueprint for one environment."
        ),
    )
    add_manifest_argument(parser)
    add_env_argument(parser)
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    parser.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    return parser


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from engine.errors import UserError

    output = Path(args.output) if args.output else None
    if output is not None:
        _check_output(output, force=args.force)

    from engine.cli.common import plan_manifest_with_origins
    from engine.eject.render import render_app
    from engine.manifest.interpolate import template_parts

    planned = plan_manifest_with_origins(args)
    blueprint = planned.blueprint
    # Env entries from variables: the Blueprint holds their manifest text; the file rebuilds
    # them from the deploying shell, read with the loader's own syntax.
    specs = {("functions", f.key): f for f in blueprint.functions} | {("servers", s.key): s for s in blueprint.servers}
    from_shell = {
        at: {name: template_parts(specs[at].container.env[name]) for name in values}
        for at, values in planned.env_values.items()
    }
    source = render_app(
        blueprint,
        filename=output.name if output else "app.py",
        env_from_variables=from_shell,
        project_root=_root_from(output, blueprint.source),
    )
    if output is None:
        sys.stdout.write(source)
        return 0
    try:
        output.write_text(source, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    print(f"wrote {output} (app {blueprint.app}, environment {blueprint.environment})", file=sys.stderr)
    return 0


def _check_output(output: Path, *, force: bool) -> None:
    """Refuse, before planning, a FILE that cannot be written or would be overwritten unasked."""
    from engine.errors import UserError

    try:
        if output.is_dir():
            raise UserError(f"{output} is a directory: name the file to write, e.g. {output / 'app.py'}")
        if output.exists() and not force:
            raise UserError(f"{output} exists; pass --force to overwrite it")
        if not output.parent.is_dir():
            raise UserError(f"cannot write {output}: there is no directory {output.parent}")
    except OSError as exc:  # e.g. a name too long for the file system
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None


def _root_from(output: Path | None, manifest: str) -> str:
    """The manifest's project root as a path from the ejected file's folder (standard output:
    from the working directory), for the file's local image paths."""
    import os
    from pathlib import Path

    from engine.project.root import project_root

    folder = output.resolve().parent if output is not None else Path.cwd()
    return Path(os.path.relpath(project_root(manifest), folder)).as_posix()
