"""Helpers of the image recipe tests: a manifest around one image, its problems, its plan."""

from __future__ import annotations

import textwrap
from pathlib import Path


def write_manifest(project: Path, images: str, *, secrets: str = "") -> Path:
    """A manifest with the image recipe `images` (YAML under `images:`) and one function on `x`."""
    text = "version: 1\napp: imgs\n"
    if secrets:
        text += "secrets:\n" + textwrap.indent(textwrap.dedent(secrets), "  ")
    text += "images:\n" + textwrap.indent(textwrap.dedent(images), "  ")
    text += "functions:\n  job:\n    handler: imgjobs.tasks:run\n    image: x\n"
    path = project / "app.yaml"
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    """The located problems of validating and planning `path` (empty when it plans)."""
    from engine.manifest.errors import ManifestError
    from engine.planner.plan import load_and_plan

    try:
        load_and_plan(path, None)
    except ManifestError as exc:
        return [p.format() for p in exc.problems]
    return []
