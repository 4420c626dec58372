"""`kind: cls` functions: a class of the user's code deployed as a Modal class (`app.cls`), with
start-up and shutdown hooks (`@modal.enter` / `@modal.exit`), methods (`@modal.method`) and a
batched method (`@modal.batched`).

The class is the user's, plain Python: mdeploy builds the Modal class around it, instantiates it
once per container (no arguments), runs the `enter` methods in order, then serves the `methods`.
Modal's own rules are checked here, so a manifest cannot ask for what `app.cls` refuses: a class
has at most one batched method, and a class with one has no other methods.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from engine.manifest.models.base import TupleOf, fail
from engine.manifest.models.container import AppFunctionSettings, InputConcurrency
from engine.manifest.models.functions import Batching, Function, RetriesField
from engine.manifest.models.shorthands import DurationSeconds, ImportPath

METHOD_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
# Modal bounds a class's start-up (its enter hooks) by `startup_timeout`, else by `timeout`.
MAX_STARTUP_TIMEOUT = 24 * 3600


def _check_method_name(name: str) -> str:
    if keyword.iskeyword(name):
        raise fail(f"{name!r} is a Python keyword, not a method name", hint="name a method of the class")
    return name


MethodName = Annotated[
    str,
    Field(pattern=METHOD_NAME_PATTERN, description="A method of the class (a Python identifier, no leading _)."),
    AfterValidator(_check_method_name),
]
MethodNames = Annotated[TupleOf[MethodName], Field(description="Method names of the class, in order.")]


class ClassFunction(AppFunctionSettings):
    """A class (`package.module:Class`) deployed as a Modal class (`app.cls`)."""

    kind: Annotated[Literal["cls"], Field(description="`cls`: deploy a class of your code with `app.cls`.")]
    handler: Annotated[
        ImportPath,
        Field(description='Import path of the class: "package.module:Class"; built once per container, no arguments.'),
    ]
    enter: Annotated[
        MethodNames,
        Field(description="Methods run in order when a container starts, before any input (`@modal.enter`)."),
    ] = ()
    exit: Annotated[
        MethodNames, Field(description="Methods run in order when a container shuts down (`@modal.exit`).")
    ] = ()
    methods: Annotated[MethodNames, Field(description="Methods callers may call remotely (`@modal.method`).")] = ()
    batched: Annotated[
        dict[MethodName, Batching],
        Field(
            description="At most one method, called with lists (`@modal.batched`); a class with one has no `methods`."
        ),
    ] = {}
    retries: RetriesField = None
    concurrency: Annotated[InputConcurrency | None, Field(description="Inputs one container handles at once.")] = None
    max_inputs: Annotated[
        int | None,
        Field(ge=1, description="Inputs a container handles before it is replaced (1: single-use containers)."),
    ] = None
    startup_timeout: Annotated[
        Annotated[int, DurationSeconds(1, MAX_STARTUP_TIMEOUT)] | None,
        Field(description='Longest the enter hooks may take, e.g. "10m"; default: the timeout (Modal\'s rule).'),
    ] = None

    @model_validator(mode="after")
    def _check(self) -> ClassFunction:
        seen: dict[str, str] = {}
        for section in ("enter", "exit", "methods", "batched"):
            names = list(getattr(self, section))
            for index, name in enumerate(names):
                at: tuple[str | int, ...] = (section, name) if section == "batched" else (section, index)
                if name in seen:
                    where = "twice" if seen[name] == section else f"also in `{seen[name]}`"
                    raise fail(
                        f"method {name!r} is listed {where}",
                        hint="name each method once: a hook is not callable remotely, and a method has one decorator",
                        at=at,
                    )
                seen[name] = section
        if not self.methods and not self.batched:
            raise fail(
                "a class needs at least one method to call",
                hint="list them under `methods:` (or one under `batched:`)",
                at=("handler",),
            )
        if len(self.batched) > 1:
            raise fail(
                "a Modal class has at most one batched method",
                hint="keep one under `batched:`, or split the class into two functions",
                at=("batched", list(self.batched)[1]),
            )
        if self.batched and self.methods:
            raise fail(
                "a Modal class with a batched method cannot have other methods (Modal refuses it)",
                hint="move the other methods into a second `kind: cls` function",
                at=("methods", 0),
            )
        if self.batched and self.concurrency is not None:
            raise fail(
                "batching and concurrency cannot be combined (Modal refuses both)",
                hint="keep one of them",
                at=("concurrency",),
            )
        return self


def _function_kind(value: Any) -> str:
    """`kind` picks the model; none (or `function`) is a plain function, as manifests always were."""
    if isinstance(value, dict):
        kind = value.get("kind", "function")
        return kind if isinstance(kind, str) else "function"
    return "cls" if isinstance(value, ClassFunction) else "function"


AnyFunction = Annotated[
    Annotated[Function, Tag("function")] | Annotated[ClassFunction, Tag("cls")],
    Discriminator(_function_kind),
]
"""A function: a handler run as `app.function` (the default), or `kind: cls`, a class as `app.cls`."""

__all__ = ["AnyFunction", "ClassFunction"]
