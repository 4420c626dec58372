"""What a manifest asks of a handler, checked against the handler's module file.

A reference `package.module:attr` must name a module that is a file of the project (never the
standard library or an installed distribution, and never a target that runs arbitrary code) and
an attribute of the kind its use needs, callable the way Modal will call it:
- a function (`functions.*.handler`): a function, not a value or a module, and no generator;
- scheduled, or an image's build function (`run_function`): callable with no arguments;
- batched: one list per parameter, so at least one, named, without defaults (Modal's rule);
- a GET endpoint: no parameter FastAPI would read from the request body;
- an ASGI/WSGI app (`services.*.app`): the app object (`app = FastAPI()`), or a function that is
  itself an app (`async def app(scope, receive, send)`), never a factory that makes one.
Whatever cannot be told from the file (a decorated function, an object made by a call, a name
from outside the project) passes: a false error is worse than a missed one.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path

from engine.project.modules import ModuleSyntaxError, ProjectModules, outside_project
from engine.project.symbols import Found, Missing, Resolver

# Modules whose every function is a way to run arbitrary programs or code: refused by name, with
# the reason, before anything else is said about them.
REFUSED_MODULES = {
    "os": "runs programs and shell commands",
    "posix": "runs programs and shell commands",
    "nt": "runs programs and shell commands",
    "subprocess": "runs programs",
    "pty": "runs programs",
    "builtins": "evaluates arbitrary code (eval, exec)",
    "importlib": "imports arbitrary code",
    "runpy": "runs arbitrary modules",
    "code": "runs arbitrary code",
    "codeop": "compiles arbitrary code",
    "pickle": "unpickles arbitrary objects, which runs code",
    "_pickle": "unpickles arbitrary objects, which runs code",
    "marshal": "loads arbitrary code objects",
    "shelve": "unpickles arbitrary objects, which runs code",
    "ctypes": "calls arbitrary native code",
}
# Annotations FastAPI reads from the request body when a parameter has no Query()/Path()/...:
# anything that is not a scalar (its `field_annotation_is_scalar`), named as typing or builtins do.
_BODY_TYPES = frozenset(
    {
        "dict",
        "list",
        "set",
        "frozenset",
        "tuple",
        "Dict",
        "List",
        "Set",
        "FrozenSet",
        "Tuple",
        "Sequence",
        "MutableSequence",
        "Mapping",
        "MutableMapping",
        "Deque",
        "deque",
        "defaultdict",
        "OrderedDict",
        "Counter",
        "UploadFile",
    }
)
_APP_SHAPES = {
    "asgi": ("an ASGI", 3, "(scope, receive, send)", "app = FastAPI()"),
    "wsgi": ("a WSGI", 2, "(environ, start_response)", "app = Flask(__name__)"),
}


@dataclass(frozen=True)
class Use:
    """How the manifest uses a reference: `kind` is "function", "scheduled", "build", "batched",
    "endpoint" (a FastAPI endpoint answering `method`, set by the key `method_key`), "asgi" or "wsgi"."""

    kind: str
    method: str | None = None
    method_key: str = "method"


@dataclass(frozen=True)
class Mistake:
    message: str
    hint: str | None = None


class HandlerChecker:
    def __init__(self, modules: ProjectModules, root: Path, root_shown: str):
        self.modules = modules
        self.resolver = Resolver(modules)
        self.root = root
        self.root_shown = root_shown

    # -- modules --------------------------------------------------------------------------------

    def module_mistake(self, module: str, reference: str | None = None) -> Mistake | None:
        """Why `module` (of `reference`) is not a module file of the project, or None when it is."""
        top = module.split(".")[0]
        if top in REFUSED_MODULES:
            return Mistake(
                f"{reference or module!r} is refused: {top} {REFUSED_MODULES[top]}",
                "name a function of your own package, e.g. jobs.tasks:run",
            )
        if self.modules.locate(module) is not None:
            return None
        ours = self.modules.folder_of(top)
        outside = outside_project(top) if ours is None else None
        if outside is not None:
            return Mistake(
                f"{module!r} is {outside}, not a module of this project (under {self.root_shown})",
                "mdeploy ships only the project's own packages: write a function in one of them that calls it"
                + (
                    ", and install the distribution with the image's pip" if outside.startswith("the installed") else ""
                ),
            )
        parts = module.split(".")
        if ours is None:
            where = f"no {top}/ or {top}.py under {self.root_shown}"
        else:
            stem = "/".join(parts)
            where = f"neither {stem}.py nor {stem}/__init__.py under {self.root_shown}"
        close = difflib.get_close_matches(module, self.modules.siblings(module), n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else (
                "handler modules are files of the project, whose root is the nearest folder above the manifest holding pyproject.toml, setup.cfg, setup.py or .git"
            )
        )
        return Mistake(f"no module {module!r} in this project: {where}", hint)

    def parse_mistake(self, module: str) -> Mistake | None:
        path = self.modules.locate(module)
        try:
            self.modules.parse(path)  # type: ignore[arg-type]
        except ModuleSyntaxError as exc:
            at = f"line {exc.line}: " if exc.line else ""
            return Mistake(
                f"{self._shown(exc.path)} does not parse ({at}{exc.reason}), so the container cannot import it",
                "fix the module",
            )
        return None

    # -- references -----------------------------------------------------------------------------

    def check(self, reference: str, use: Use) -> Mistake | None:
        """The first mistake of `reference` for `use`, or None."""
        module, _, name = reference.partition(":")
        mistake = self.module_mistake(module, reference) or self.parse_mistake(module)
        if mistake is not None:
            return mistake
        found = self.resolver.attribute(module, name)
        if isinstance(found, Missing):
            close = difflib.get_close_matches(name, found.names, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'?"
                if close
                else f"define {name} at the top level of {self._shown(self.modules.locate(module))}"
            )
            return Mistake(f"module {module!r} has no top-level {name!r}", hint)
        ref = repr(reference)
        if use.kind in _APP_SHAPES:
            return self._app(ref, found, use.kind)
        if found.kind in ("value", "module"):
            what = "a module" if found.kind == "module" else found.what
            return Mistake(f"{ref} is {what}, not a function", "name a function of the module: a def or async def")
        if found.kind != "function" or found.decorated:
            return None
        where = f"{ref} ({self._defined(found)})"
        if _is_generator(found.node):
            return Mistake(
                f"{where} is a generator function; mdeploy functions return their result, they cannot yield",
                "collect the items into a list and return it",
            )
        params = _Params(found.node.args)  # type: ignore[union-attr]
        if use.kind == "scheduled":
            return _scheduled(where, params)
        if use.kind == "build":
            return _build(where, params)
        if use.kind == "batched":
            return _batched(where, params, name)
        if use.kind == "endpoint" and use.method == "GET":
            return self._get_endpoint(where, params, found, use)
        return None

    def _app(self, ref: str, found: Found, kind: str) -> Mistake | None:
        protocol, arity, shape, example = _APP_SHAPES[kind]
        if found.kind in ("value", "module"):
            what = "a module" if found.kind == "module" else found.what
            return Mistake(f"{ref} is {what}, not {protocol} app", f"name the app object, e.g. {example}")
        if found.kind != "function" or found.decorated:
            return None
        params = _Params(found.node.args)  # type: ignore[union-attr]
        if params.accepts(arity):
            return None
        where = f"{ref} ({self._defined(found)})"
        if params.accepts(0):
            name = getattr(found.node, "name", "make_app")
            return Mistake(
                f"{where} is a function that takes no arguments, an app factory; mdeploy serves the object it names as the app",
                f"create the app at module level, app = {name}(), and name that",
            )
        return Mistake(
            f"{where} is a function of ({', '.join(params.names)}), neither {protocol} app {shape} nor an app object",
            f"name the app object, e.g. {example}",
        )

    def _get_endpoint(self, where: str, params: _Params, found: Found, use: Use) -> Mistake | None:
        classes = _body_classes(self.modules.parse(found.file)) if found.file else set()
        for name, annotation, default in params.annotated:
            if _from_body(annotation, default, classes):
                written = f"{name}: {ast.unparse(annotation)}" if annotation is not None else name
                return Mistake(
                    f"{where} takes {written!r}, which FastAPI reads from the request body, but the endpoint answers GET",
                    f"set {use.method_key}: POST, PUT or PATCH, or take only query parameters: str, int, float, bool",
                )
        return None

    def _defined(self, found: Found) -> str:
        line = getattr(found.node, "lineno", None)
        return f"{self._shown(found.file)}:{line}" if found.file and line else self._shown(found.file)

    def _shown(self, path: Path | None) -> str:
        if path is None:
            return "?"
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


class _Params:
    """A function's parameters as `ast` gives them, with defaults lined up."""

    def __init__(self, args: ast.arguments):
        positional = [*args.posonlyargs, *args.args]
        first_default = len(positional) - len(args.defaults)
        self.positional = [
            (a, args.defaults[i - first_default] if i >= first_default else None) for i, a in enumerate(positional)
        ]
        self.keyword_only = list(zip(args.kwonlyargs, args.kw_defaults))
        self.var_positional = args.vararg
        self.var_keyword = args.kwarg

    @property
    def names(self) -> list[str]:
        out = [a.arg for a, _ in self.positional]
        if self.var_positional:
            out.append("*" + self.var_positional.arg)
        out += [a.arg for a, _ in self.keyword_only]
        if self.var_keyword:
            out.append("**" + self.var_keyword.arg)
        return out

    @property
    def annotated(self) -> list[tuple[str, ast.expr | None, ast.expr | None]]:
        return [(a.arg, a.annotation, d) for a, d in (*self.positional, *self.keyword_only)]

    def required(self) -> list[str]:
        return [a.arg for a, d in (*self.positional, *self.keyword_only) if d is None]

    def accepts(self, count: int) -> bool:
        """Callable with `count` positional arguments and nothing else."""
        if any(d is None for _, d in self.keyword_only):
            return False
        required = sum(1 for _, d in self.positional if d is None)
        return required <= count and (count <= len(self.positional) or self.var_positional is not None)


def _quoted(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _scheduled(where: str, params: _Params) -> Mistake | None:
    required = params.required()
    if not required:
        return None
    return Mistake(
        f"{where} requires {_quoted(required)}, but a schedule calls it with no arguments",
        "give those parameters defaults, or remove the schedule",
    )


def _build(where: str, params: _Params) -> Mistake | None:
    required = params.required()
    if not required:
        return None
    return Mistake(
        f"{where} requires {_quoted(required)}, but an image's run_function step calls it with no arguments",
        "give those parameters defaults, or read the values from env or a file",
    )


def _batched(where: str, params: _Params, name: str) -> Mistake | None:
    variadic = params.var_positional or params.var_keyword
    if variadic is not None:
        star = "*" if variadic is params.var_positional else "**"
        return Mistake(
            f"{where} takes {star}{variadic.arg}; Modal hands a batch over by parameter name, one list per parameter",
            f"name each parameter, e.g. def {name}(texts: list[str])",
        )
    if not params.positional and not params.keyword_only:
        return Mistake(
            f"{where} takes no parameters, but a batched function receives each parameter as the list of the batch's inputs",
            f"take the inputs as a list, e.g. def {name}(items: list) -> list",
        )
    for arg, default in (*params.positional, *params.keyword_only):
        if default is not None:
            return Mistake(
                f"{where} gives {arg.arg!r} a default; Modal refuses defaults in batched functions",
                "remove the default: every input of a batch passes every parameter",
            )
    return None


def _is_generator(node: ast.AST | None) -> bool:
    """`yield` in the function's own body (not in a function nested in it)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    pending: list[ast.AST] = list(node.body)
    while pending:
        item = pending.pop()
        if isinstance(item, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        pending.extend(ast.iter_child_nodes(item))
    return False


def _body_classes(tree: ast.Module) -> set[str]:
    """Classes of the module that subclass pydantic's BaseModel directly (FastAPI reads them from the body)."""

    def base_name(base: ast.expr) -> str:
        return base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")

    return {
        st.name
        for st in tree.body
        if isinstance(st, ast.ClassDef) and any(base_name(b) == "BaseModel" for b in st.bases)
    }


def _type_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _from_body(annotation: ast.expr | None, default: ast.expr | None, classes: set[str]) -> bool:
    """FastAPI would read this parameter from the request body (conservatively: only when sure)."""
    if isinstance(default, ast.Call):
        return _type_name(default.func) == "Body"  # Query(), Depends(), ... say where it comes from
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return _from_body(annotation.left, None, classes) or _from_body(annotation.right, None, classes)
    if isinstance(annotation, ast.Subscript):
        outer = _type_name(annotation.value)
        inner = annotation.slice
        if outer == "Annotated":
            return False  # Annotated[T, Query()] and the like: FastAPI reads what it says
        if outer in ("Optional", "Union"):
            members = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            return any(_from_body(m, None, classes) for m in members)
        return outer in _BODY_TYPES
    name = _type_name(annotation)
    return name in _BODY_TYPES or name in classes
