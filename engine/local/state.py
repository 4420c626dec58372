"""Where a local run keeps its state: `.mdeploy/` at the project root of the manifest.

Volumes (`.mdeploy/volumes/NAME`), buckets (`.mdeploy/buckets/KEY`), model folders
(`.mdeploy/models/`), engine logs (`.mdeploy/logs/`) and benchmark reports (`.mdeploy/bench/`)
belong to the project, not to whatever folder a command happens to run in: `mdeploy serve` from
`manifests/` or from the repository's top must find the same weights and the same volumes. The
project root is the one everything else uses (engine/project/root.py: the nearest folder above
the manifest with `pyproject.toml`, `setup.cfg`, `setup.py` or `.git`). Engines run there too, so
a relative model `path:` in a manifest means the same folder whichever folder `serve` ran in.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.project.root import project_root, shown

STATE_DIR = ".mdeploy"


def local_root(source: str | os.PathLike[str]) -> Path:
    """The folder whose `.mdeploy/` holds the state of the manifest (or Blueprint JSON file) at `source`."""
    return project_root(source)


def state_folder(root: Path, *parts: str) -> Path:
    """`root/.mdeploy/PARTS...` (not created)."""
    return root.joinpath(STATE_DIR, *parts)


def shown_path(path: Path) -> str:
    """A file or folder as messages name it: relative to the current folder when below it."""
    return shown(path).rstrip("/") or "."
