"""The local Python files a package contributes to a container, as Modal's
`add_local_python_source` ships them: every `*.py` under the package folder (dot-prefixed
folders and files and `__pycache__` left out), at `/root/<path relative to the folder on sys.path
that holds it>`. The first root that holds the module wins, as on sys.path."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def local_python_files(module: str, roots: tuple[Path, ...]) -> dict[str, str]:
    """Container path -> sha256 of each file of the top-level package (or module) `module`,
    from the first of `roots` that holds it."""
    for root in roots:
        package = root / module
        if package.is_dir():
            files = [
                p
                for p in package.rglob("*.py")
                if not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts)
            ]
        elif (root / f"{module}.py").is_file():
            files = [root / f"{module}.py"]
        else:
            continue
        return {f"/root/{p.relative_to(root).as_posix()}": hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    return {}
