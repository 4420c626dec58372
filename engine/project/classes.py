"""What a `kind: cls` function asks of its class, checked against the class's module file.

The handler must name a class (not a function or a value) that mdeploy can build with its class
parameters as keyword arguments (and nothing else), and every method the manifest lists must be
a method of it: `enter`/`exit` hooks take no arguments, the batched method takes one list per
parameter (Modal's rule for batching), and none is a generator (mdeploy's methods return their
result). What the file cannot tell (a class with base classes may inherit a method; a decorated
method may be anything) passes.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator
from typing import Any

from engine.project.handlers import HandlerChecker, Mistake, Use, _batched, _is_generator, _Params, _quoted
from engine.project.symbols import Found, Missing


def class_mistakes(checker: HandlerChecker, fn: Any) -> Iterator[tuple[tuple[str | int, ...], Mistake]]:
    """(key path below the function, mistake) for each problem of the class `fn.handler` names."""
    module, _, name = fn.handler.partition(":")
    mistake = checker.module_mistake(module, fn.handler) or checker.parse_mistake(module)
    found = checker.resolver.attribute(module, name) if mistake is None else None
    if isinstance(found, Missing):
        mistake = checker.check(fn.handler, Use("function"))  # words the missing name as functions do
    elif found is not None and found.kind in ("value", "module", "function"):
        what = {"module": "a module", "function": "a function"}.get(found.kind, found.what)
        mistake = Mistake(
            f"{fn.handler!r} is {what}, not a class; `kind: cls` deploys a class",
            "name a class of the module"
            + (
                ", or remove `kind: cls` and its method lists to run it as a function"
                if found.kind == "function"
                else ""
            ),
        )
    if mistake is not None:
        yield ("handler",), mistake
        return
    ref = repr(fn.handler)
    if not isinstance(found, Found) or found.kind != "class" or not isinstance(found.node, ast.ClassDef):
        return
    node = found.node
    where = f"{ref} ({checker._defined(found)})"
    methods = _methods(node)
    init = methods.get("__init__")
    if isinstance(init, (ast.FunctionDef, ast.AsyncFunctionDef)) and not init.decorator_list:
        yield from _constructor_mistakes(where, init.args, fn.parameters)
    elif fn.parameters and init is None and not (node.bases or node.keywords or node.decorator_list):
        # object.__init__ takes no keyword arguments: the class could not be built.
        first = next(iter(fn.parameters))
        yield (
            ("parameters", first),
            Mistake(
                f"{where} has no __init__ to take its class parameters as keyword arguments",
                f"define __init__(self, {', '.join(fn.parameters)}) in class {node.name}",
            ),
        )
    # A base class (or a __getattr__) may provide what the body does not define.
    open_ended = bool(node.bases or node.keywords or node.decorator_list) or "__getattr__" in methods
    for section, at, method in fn.listed_methods():
        found_method = methods.get(method)
        if found_method is None:
            if not open_ended:
                close = difflib.get_close_matches(method, [m for m in methods if not m.startswith("_")], n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"define {method}(self) in class {node.name}"
                yield at, Mistake(f"{where} has no method {method!r}", hint)
            continue
        mistake = _method_mistake(f"{ref} method {method!r}", section, found_method, method)
        if mistake is not None:
            yield at, mistake


def _constructor_mistakes(
    where: str, args: ast.arguments, parameters: dict[str, Any]
) -> Iterator[tuple[tuple[str | int, ...], Mistake]]:
    """The constructor is called with the class parameters as keyword arguments, nothing else."""
    params = _Params(args)
    params.positional = params.positional[1:]  # `self`
    required = [name for name in params.required() if name not in parameters]
    if required:
        yield (
            ("handler",),
            Mistake(
                f"{where} requires {_quoted(required)} to be built; mdeploy builds one instance per container "
                + ("with its class parameters as keyword arguments" if parameters else "with no arguments"),
                "give those parameters defaults, make them class `parameters:`, or read them from env in an enter method",
            ),
        )
    if params.var_keyword is not None:
        return
    positional_only = {a.arg for a in args.posonlyargs}
    accepted = {a.arg for a, _ in (*params.positional, *params.keyword_only)} - positional_only
    for name in parameters:
        if name not in accepted:
            yield (
                ("parameters", name),
                Mistake(
                    f"{where}: __init__ takes no keyword argument {name!r}, and mdeploy passes each class parameter as one",
                    f"add {name} to __init__'s parameters, or rename the parameter",
                ),
            )


def _methods(node: ast.ClassDef) -> dict[str, ast.AST | None]:
    """Names the class body binds: a def's node, None for anything else (an attribute)."""
    bound: dict[str, ast.AST | None] = {}
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bound[statement.name] = statement
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    bound[target.id] = None
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            bound[statement.target.id] = None
    return bound


def _method_mistake(where: str, section: str, node: ast.AST | None, name: str) -> Mistake | None:
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None if node is None else Mistake(f"{where} is not a method", "name a def of the class")
    if node.decorator_list:
        return None  # a staticmethod, a property, a wrapper: cannot be told from the file
    line = f"{where} (line {node.lineno})"
    if _is_generator(node):
        return Mistake(
            f"{line} is a generator; mdeploy methods return their result, they cannot yield",
            "collect the items into a list and return it",
        )
    params = _Params(node.args)
    if not params.positional:
        return Mistake(f"{line} takes no `self`", "make it a method: def " + name + "(self, ...)")
    # Drop `self`: Modal calls the method bound to the instance.
    params.positional = params.positional[1:]
    if section in ("enter", "exit"):
        required = params.required()
        if required:
            hook = "an enter" if section == "enter" else "an exit"
            return Mistake(
                f"{line} requires {_quoted(required)}, but {hook} hook is called with no arguments",
                "give those parameters defaults, or read them from env",
            )
    if section == "batched":
        return _batched(line, params, name)
    return None
