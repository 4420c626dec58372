"""The local Python files a package contributes to a container, as Modal's
`add_local_python_source` ships them: every `*.py` under the package folder (dot-prefixed
folders and files and `__pycache__` left out), at `/root/<path relative to the repository>`."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def local_python_files(module: str) -> dict[str, str]:
    """Container path -> sha256 of each file of the top-level package (or module) `module`."""
    package = REPO_ROOT / module
    if package.is_dir():
        files = [
            p
            for p in package.rglob("*.py")
            if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(REPO_ROOT).parts)
        ]
    elif (REPO_ROOT / f"{module}.py").is_file():
        files = [REPO_ROOT / f"{module}.py"]
    else:
        return {}
    return {f"/root/{p.relative_to(REPO_ROOT).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
