"""The project's Python modules as files: found by dotted name, parsed with `ast`, never imported.

Lookup follows Python's own for a sys.path whose first entries are the project's source folders:
the first folder holding the top-level name decides, a package's `__init__.py` wins over a
module file, and a folder without `__init__.py` is a namespace package. Names match exactly,
case included, as they will in a Linux container even when this machine's disk ignores case.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path


class ModuleSyntaxError(Exception):
    """A project module that does not parse: the container could not import it either."""

    def __init__(self, path: Path, line: int | None, reason: str):
        super().__init__(reason)
        self.path, self.line, self.reason = path, line, reason


class ProjectModules:
    def __init__(self, folders: Sequence[Path]):
        self.folders = tuple(folders)
        self._entries: dict[Path, frozenset[str]] = {}

    def _exists_exactly(self, path: Path) -> bool:
        """`path` exists with exactly this spelling (a case-insensitive disk would say yes to `Jobs`)."""
        if path.parent not in self._entries:
            try:
                self._entries[path.parent] = frozenset(os.listdir(path.parent))
            except OSError:
                self._entries[path.parent] = frozenset()
        return path.name in self._entries[path.parent]

    def folder_of(self, top: str) -> Path | None:
        """The source folder holding the top-level package or module `top`, if any."""
        for folder in self.folders:
            if self._exists_exactly(folder / top) and (folder / top).is_dir():
                return folder
            if self._exists_exactly(folder / f"{top}.py"):
                return folder
        return None

    def locate(self, module: str) -> Path | None:
        """The file of `module` (a `.py` file or a package's `__init__.py`), or None."""
        parts = module.split(".")
        folder = self.folder_of(parts[0])
        if folder is None:
            return None
        target = folder.joinpath(*parts)
        if self._exists_exactly(target) and self._exists_exactly(target / "__init__.py"):
            return target / "__init__.py"
        module_file = target.with_name(parts[-1] + ".py")
        if self._exists_exactly(module_file) and all(
            self._exists_exactly(folder.joinpath(*parts[:i])) for i in range(1, len(parts))
        ):
            return module_file
        return None

    def is_namespace(self, module: str) -> bool:
        """`module` is a folder of the project without `__init__.py` (importable, with no file)."""
        parts = module.split(".")
        folder = self.folder_of(parts[0])
        return (
            folder is not None
            and all(self._exists_exactly(folder.joinpath(*parts[:i])) for i in range(1, len(parts) + 1))
            and folder.joinpath(*parts).is_dir()
        )

    def siblings(self, module: str) -> list[str]:
        """Dotted names of the modules beside `module` (for "did you mean")."""
        parts = module.split(".")
        parent = ".".join(parts[:-1])
        folders = [f.joinpath(*parts[:-1]) for f in self.folders] if parent else list(self.folders)
        names: set[str] = set()
        for folder in folders:
            try:
                entries = os.listdir(folder)
            except OSError:
                continue
            for entry in entries:
                stem = entry[:-3] if entry.endswith(".py") else entry
                if stem.isidentifier() and (entry.endswith(".py") or (folder / entry / "__init__.py").is_file()):
                    names.add(f"{parent}.{stem}" if parent else stem)
        return sorted(names - {module})

    def parse(self, path: Path) -> ast.Module:
        """The module's syntax tree; ModuleSyntaxError when it does not parse."""
        try:
            stat = path.stat()
        except OSError as exc:
            raise ModuleSyntaxError(path, None, f"cannot be read ({exc.strerror or exc})") from None
        return _parse(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _parse(path: Path, mtime_ns: int, size: int) -> ast.Module:
    # Keyed by the file's time and size: validating a folder of manifests parses each shared
    # handler module once, and an edited file is parsed again. Trees are only ever read.
    try:
        source = path.read_bytes()
    except OSError as exc:
        raise ModuleSyntaxError(path, None, f"cannot be read ({exc.strerror or exc})") from None
    try:
        # bytes, so that a coding declaration (PEP 263) is honoured as Python would.
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ModuleSyntaxError(path, exc.lineno, exc.msg) from None
    except ValueError as exc:  # null bytes
        raise ModuleSyntaxError(path, None, str(exc)) from None


def outside_project(top: str) -> str | None:
    """What a top-level name resolves to outside any project: the standard library, a module
    built into Python, or an installed distribution (by name); None when it is none of them."""
    if top in sys.builtin_module_names:
        return "a module built into Python"
    if top in sys.stdlib_module_names:
        return "Python's standard library"
    distributions = _distributions().get(top)
    if distributions:
        return f"the installed distribution {', '.join(sorted(set(distributions)))}"
    return None


@cache
def _distributions() -> Mapping[str, list[str]]:
    # Reads every installed distribution's metadata: only asked when a name is not the project's.
    from importlib.metadata import packages_distributions

    return packages_distributions()
