"""What a module's top-level name is, read from its syntax tree: a function, a class, an object
made by a call, a literal value, a module, or something that cannot be told without running it.

Only what the file says for certain counts. Re-exports (`from .tasks import run`, `from pkg.mod
import run as go`, `from .x import *` within the project) are followed; a name bound in several
branches (`if ...: def f(): ...`) counts when every branch agrees; `__all__` makes a name exist;
a module that edits its own namespace (`globals()`, `setattr`, `sys.modules`, a module-level
`__getattr__`, `exec`) or star-imports from outside the project has names we cannot list, so a
missing name there is not a mistake. A decorated function may be anything: it is reported as
callable, without a signature.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from engine.project.modules import ProjectModules

_MAX_DEPTH = 20  # re-export chains longer than this are not followed (and a cycle stops here)
_DYNAMIC_CALLS = frozenset({"globals", "setattr", "exec", "vars", "__import__"})


@dataclass(frozen=True)
class Found:
    """What a name is. `kind`: "function" (def, async def or lambda: `node` has its arguments),
    "class", "object" (made by a call, or imported from outside the project: could be anything),
    "value" (a literal: `what` says which), "module", or "unknown"."""

    kind: str
    node: ast.AST | None = None
    what: str = ""
    file: Path | None = None
    decorated: bool = False


@dataclass(frozen=True)
class Missing:
    """The module binds no such name; `names` are those it does bind (for "did you mean")."""

    names: tuple[str, ...] = ()


UNKNOWN = Found("unknown")
_LITERALS = {
    ast.List: "a list",
    ast.ListComp: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a mapping",
    ast.DictComp: "a mapping",
    ast.Set: "a set",
    ast.SetComp: "a set",
    ast.JoinedStr: "text",
    ast.GeneratorExp: "a generator",
}


def _constant(value: object) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float, complex)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bytes):
        return "bytes"
    return "None" if value is None else "a constant"


@dataclass
class _Namespace:
    """A module's top-level bindings: name -> [(binding, in a branch?)], in source order."""

    bindings: dict[str, list[tuple[object, bool]]] = field(default_factory=dict)
    stars: list[tuple[str | None, int]] = field(default_factory=list)
    exported: set[str] = field(default_factory=set)  # string items of a literal __all__
    dynamic: bool = False

    def bind(self, name: str, what: object, branch: bool) -> None:
        self.bindings.setdefault(name, []).append((what, branch))


def _collect(statements: list[ast.stmt], space: _Namespace, branch: bool) -> None:
    for st in statements:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            space.bind(st.name, st, branch)
            if st.name == "__getattr__":
                space.dynamic = True
        elif isinstance(st, ast.Assign):
            for target in st.targets:
                _bind_target(target, st.value, space, branch)
        elif isinstance(st, ast.AnnAssign) and st.value is not None:
            _bind_target(st.target, st.value, space, branch)
        elif isinstance(st, ast.AugAssign) and isinstance(st.target, ast.Name):
            if st.target.id == "__all__":
                space.exported.update(_strings(st.value))
            space.bind(st.target.id, None, True)
        elif isinstance(st, ast.Import):
            for alias in st.names:
                name = alias.asname or alias.name.split(".")[0]
                space.bind(name, ("module", alias.name if alias.asname else alias.name.split(".")[0]), branch)
        elif isinstance(st, ast.ImportFrom):
            for alias in st.names:
                if alias.name == "*":
                    space.stars.append((st.module, st.level))
                else:
                    space.bind(alias.asname or alias.name, ("from", st.module, st.level, alias.name), branch)
        elif isinstance(st, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.TryStar)):
            for loop_name in _loop_targets(st):
                space.bind(loop_name, None, True)
            for body in ("body", "orelse", "finalbody"):
                _collect(getattr(st, body, []) or [], space, True)
            for handler in getattr(st, "handlers", []) or []:
                _collect(handler.body, space, True)
        elif isinstance(st, ast.Match):
            for case in st.cases:
                _collect(case.body, space, True)


def _loop_targets(st: ast.stmt) -> list[str]:
    targets: list[ast.expr] = []
    if isinstance(st, (ast.For, ast.AsyncFor)):
        targets.append(st.target)
    if isinstance(st, (ast.With, ast.AsyncWith)):
        targets.extend(item.optional_vars for item in st.items if item.optional_vars is not None)
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _bind_target(target: ast.expr, value: ast.expr, space: _Namespace, branch: bool) -> None:
    if isinstance(target, ast.Name):
        if target.id == "__all__":
            space.exported.update(_strings(value))
        space.bind(target.id, value, branch)
    elif isinstance(target, (ast.Tuple, ast.List)):
        for item in ast.walk(target):
            if isinstance(item, ast.Name):
                space.bind(item.id, None, branch)


def _strings(value: ast.expr) -> set[str]:
    if isinstance(value, (ast.List, ast.Tuple)):
        return {e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return set()


def _is_dynamic(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _DYNAMIC_CALLS:
            return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "modules"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            return True
    return False


@lru_cache(maxsize=256)
def _namespace_of(tree: ast.Module) -> _Namespace:
    # One per parsed tree (trees are cached by file, see modules.py); never modified once built.
    space = _Namespace()
    _collect(tree.body, space, False)
    space.dynamic = space.dynamic or _is_dynamic(tree)
    return space


class Resolver:
    """Answers "what is `module:name`?" for modules of the project, from their files alone."""

    def __init__(self, modules: ProjectModules):
        self.modules = modules

    def namespace(self, path: Path) -> _Namespace:
        return _namespace_of(self.modules.parse(path))

    def attribute(self, module: str, name: str, _seen: frozenset[tuple[str, str]] = frozenset()) -> Found | Missing:
        """What `name` is in project module `module` (whose file must exist)."""
        path = self.modules.locate(module)
        if path is None or (module, name) in _seen or len(_seen) > _MAX_DEPTH:
            return UNKNOWN
        seen = _seen | {(module, name)}
        space = self.namespace(path)
        bindings = space.bindings.get(name)
        if bindings:
            found = [self._binding(module, path, what, seen) for what, _ in bindings]
            last_is_certain = not bindings[-1][1]
            if last_is_certain or all(f == found[-1] for f in found):
                return found[-1]
            kinds = {f.kind for f in found}
            return found[-1] if len(kinds) == 1 and "function" not in kinds else UNKNOWN
        for star_module, level in space.stars:
            source = self._absolute(module, path, star_module, level)
            if source is None or self.modules.locate(source) is None:
                return UNKNOWN  # names from outside the project: cannot be listed
            from_star = self.attribute(source, name, seen)
            if not isinstance(from_star, Missing):
                return from_star
        if space.dynamic or name in space.exported:
            return UNKNOWN
        # A submodule is an attribute of its package once imported; the container imports the
        # handler's module by its own dotted name, so `pkg:sub` reaches only an imported one.
        if self.modules.locate(f"{module}.{name}") is not None:
            return UNKNOWN
        return Missing(tuple(sorted(space.bindings)))

    def _binding(self, module: str, path: Path, what: object, seen: frozenset[tuple[str, str]]) -> Found:
        if isinstance(what, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return Found("function", what, file=path, decorated=bool(what.decorator_list))
        if isinstance(what, ast.ClassDef):
            return Found("class", what, file=path)
        if isinstance(what, tuple) and what[0] == "module":
            return Found("module", what=what[1], file=path)
        if isinstance(what, tuple) and what[0] == "from":
            _, source, level, imported = what
            absolute = self._absolute(module, path, source, level)
            if absolute is None:
                return UNKNOWN
            if self.modules.locate(absolute) is None:
                # From outside the project (or a namespace package): an object of unknown kind.
                return UNKNOWN if self.modules.is_namespace(absolute) else Found("object", file=path)
            found = self.attribute(absolute, imported, seen)
            if isinstance(found, Missing):
                sub = f"{absolute}.{imported}"
                return Found("module", what=sub, file=path) if self.modules.locate(sub) else UNKNOWN
            return found
        if isinstance(what, ast.Lambda):
            return Found("function", what, file=path)
        if isinstance(what, ast.Constant):
            return Found("value", what=_constant(what.value), file=path)
        if type(what) in _LITERALS:
            return Found("value", what=_LITERALS[type(what)], file=path)
        if isinstance(what, ast.Call):
            return Found("object", what, file=path)
        if isinstance(what, ast.Name):
            found = self.attribute(module, what.id, seen)
            return UNKNOWN if isinstance(found, Missing) else found
        return UNKNOWN

    def _absolute(self, module: str, path: Path, source: str | None, level: int) -> str | None:
        """The absolute name of `from <level dots><source> import ...` written in `module`."""
        if level == 0:
            return source
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        if level - 1 >= len(package):
            return None  # above the top-level package: an ImportError the import reports itself
        base = package[: len(package) - (level - 1)]
        return ".".join([*base, source]) if source else ".".join(base)
