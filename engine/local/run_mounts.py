"""What a handler run by `mdeploy run` can see of its function's mounts, said plainly.

In a container a volume is at its mount path (`/data`); here that path is not ours to create (it
is the machine's root folder, and may even exist with other files in it). The local copy is
`.mdeploy/volumes/NAME` (buckets: an empty `.mdeploy/buckets/KEY`), and the handler reaches it
through what mdeploy can rewrite:
- env values that name a mount path (the manifest's `env: {DATA_DIR: /data}`), as for `serve`;
- JSON string arguments that name a mount path (`-- '"/data/in.txt"'`), here only.
A path written in the handler's own code (`open("/data/x")`) is not rewritten: it would need
the machine's `/data`. So `mdeploy run` says so before the call, naming each such literal in the
handler's module with its line, and a handler that fails opening a path under a mount path gets
that reason instead of a bare FileNotFoundError.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.local.mounts import LocalMount, mount_of, rewrite_path
from engine.local.state import shown_path
from engine.project.modules import ModuleSyntaxError, ProjectModules
from engine.project.root import source_folders


@dataclass(frozen=True)
class PathLiteral:
    file: Path
    line: int
    value: str
    mount: LocalMount


def mount_lines(mounts: list[LocalMount]) -> list[str]:
    """One line per mount: where its local copy is, and how the handler can reach it."""
    lines = []
    for mount in mounts:
        path, local = mount.container_path, shown_path(mount.local_path)
        what = (
            f"an empty folder here, {local} (a bucket cannot be mounted locally)"
            if mount.kind == "bucket"
            else f"{local} here"
        )
        lines.append(
            f"{mount.kind} at {path} is {what}; env values and arguments naming {path} are pointed there, but {path} itself is not"
        )
    return lines


def rewrite_arguments(values: Any, mounts: list[LocalMount]) -> Any:
    """`values` (decoded JSON) with every string that names a mount path pointing at its local copy."""
    if isinstance(values, str):
        return rewrite_path(values, mounts)
    if isinstance(values, list):
        return [rewrite_arguments(v, mounts) for v in values]
    if isinstance(values, dict):
        return {k: rewrite_arguments(v, mounts) for k, v in values.items()}
    return values


def path_literals(handler: str, root: Path, mounts: list[LocalMount]) -> list[PathLiteral]:
    """String constants that name a mount path in the handler function and at its module's top
    level (where `ROOT = Path("/data")` lives); other functions are not the handler's (the module
    is read, never imported)."""
    if not mounts:
        return []
    modules = ProjectModules(source_folders(root))
    module_file = modules.locate(handler.partition(":")[0])
    if module_file is None:
        return []
    try:
        tree = modules.parse(module_file)
    except ModuleSyntaxError:
        return []  # importing it will say what is wrong, in Python's words
    found = []
    for node in _handler_scope(tree, handler.partition(":")[2]):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            mount = mount_of(node.value, mounts)
            if mount is not None:
                found.append(PathLiteral(module_file, node.lineno, node.value, mount))
    return sorted(found, key=lambda p: p.line)


def _handler_scope(tree: ast.Module, attr: str) -> Iterator[ast.AST]:
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name != attr:
            continue
        yield from ast.walk(statement)


def literal_warning(literal: PathLiteral) -> str:
    variable = _variable_for(literal.mount.container_path)
    return (
        f"{shown_path(literal.file)}:{literal.line} names {literal.value!r} in code, which mdeploy run cannot point at "
        f"{shown_path(literal.mount.local_path)}: read it from an env var the manifest sets "
        f"(env: {{{variable}: {literal.mount.container_path}}}), or take it as an argument"
    )


def _variable_for(path: str) -> str:
    """A variable name for a mount path: /raw -> RAW_DIR, /root/.cache/huggingface -> HUGGINGFACE_DIR."""
    last = path.rstrip("/").rsplit("/", 1)[-1]
    word = "".join(ch if ch.isalnum() else "_" for ch in last).strip("_").upper()
    return f"{word or 'DATA'}_DIR"


def unreachable_path_message(exc: BaseException, reference: str, mounts: list[LocalMount]) -> str | None:
    """Why the handler could not open a path under a mount path, or None when that is not what failed."""
    filename = getattr(exc, "filename", None)
    if not isinstance(exc, OSError) or not isinstance(filename, str):
        return None
    mount = mount_of(filename, mounts)
    if mount is None:
        return None
    return (
        f"{reference} opened {filename}, under the {mount.kind} mount {mount.container_path}, which is not on this "
        f"machine: its local copy is {shown_path(mount.local_path)}, reached through env values and arguments that "
        f"name {mount.container_path}, not through paths written in the code"
    )
