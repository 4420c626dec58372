"""The project root: where handler modules are looked up, and where the deploy ships them from.

One definition for everyone: `mdeploy validate` and the planner (which check handler modules as
files under it), `engine/entry.py` on the deploying machine (which puts it first on sys.path, so
Modal's `add_local_python_source` finds the same files) and `mdeploy run`/`serve` (which import
handlers from it). The root is the nearest folder at or above the manifest's that holds a
`pyproject.toml`, `setup.cfg`, `setup.py` or `.git`, else the manifest's own folder. Its `src/` folder, when there is one,
is searched after it (the src layout).
"""

from __future__ import annotations

import os
from pathlib import Path

# What marks a Python project's top folder; `.git` is a folder, or a file in a git worktree.
ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
SOURCE_LAYOUT_FOLDER = "src"


def project_root(manifest: str | os.PathLike[str]) -> Path:
    """The project root of the manifest at `manifest` (an absolute, resolved path)."""
    start = Path(manifest).resolve().parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


def source_folders(root: Path) -> tuple[Path, ...]:
    """Where the project's top-level packages live, in lookup order."""
    src = root / SOURCE_LAYOUT_FOLDER
    return (root, src) if src.is_dir() else (root,)


def import_paths(manifest: str | os.PathLike[str]) -> list[str]:
    """The folders to put first on sys.path (or PYTHONPATH) to import the manifest's handlers;
    none when the manifest file is not there (a Blueprint planned elsewhere)."""
    if not Path(manifest).is_file():
        return []
    return [str(folder) for folder in source_folders(project_root(manifest))]


def shown(path: Path) -> str:
    """A folder as messages name it: relative to the current directory when below it."""
    relative = os.path.relpath(path, Path.cwd())
    if relative == ".":
        return "./"
    return (path.as_posix() if relative.startswith("..") else Path(relative).as_posix()) + "/"
