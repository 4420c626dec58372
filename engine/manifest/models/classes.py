"""`kind: cls` functions: a class of the user's code deployed as a Modal class (`app.cls`), with
start-up and shutdown hooks (`@modal.enter` / `@modal.exit`), methods (`@modal.method`), a
batched method (`@modal.batched`), class parameters (`modal.parameter()`) and a memory snapshot.

The class is the user's, plain Python: mdeploy builds the Modal class around it, instantiates it
once per container (with its parameters as keyword arguments), runs the `enter` methods in order,
then serves the `methods`. Modal's own rules are checked here, so a manifest cannot ask for what
`app.cls` refuses: a class has at most one batched method, and a class with one has no other
methods; `snap=True` enter methods need `enable_memory_snapshot` (so `enter: {before_snapshot}`
needs `memory_snapshot`); a parameter's name is not also a method's.

With a memory snapshot the `enter` list alone would be ambiguous (Modal runs a plain
`@modal.enter()` after each restore, and a reader may expect it snapshotted), so a class with a
snapshot says which phase each enter method belongs to: `{before_snapshot: [...], after_restore: [...]}`.
"""

from __future__ import annotations

import keyword
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag, model_validator

from engine.manifest.models.base import StrictModel, TupleOf, fail
from engine.manifest.models.class_parameters import ParametersField
from engine.manifest.models.container import AppFunctionSettings, InputConcurrency
from engine.manifest.models.functions import Batching, Function, RetriesField
from engine.manifest.models.shorthands import DurationSeconds, ImportPath
from engine.manifest.models.snapshots import MemorySnapshot, SnapshotField

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


class EnterPhases(StrictModel):
    """The enter methods of a class with a memory snapshot, by when they run."""

    before_snapshot: Annotated[
        MethodNames,
        Field(
            description="Run in order before the snapshot is taken, e.g. load weights (`@modal.enter(snap=True)`); "
            "restored containers skip them."
        ),
    ] = ()
    after_restore: Annotated[
        MethodNames,
        Field(
            description="Run in order in every container after it is restored, e.g. move weights to the GPU "
            "(`@modal.enter(snap=False)`)."
        ),
    ] = ()


def _enter_form(value: Any) -> str:
    """One form reported, not both: a mapping is the phases, anything else the list."""
    return "phases" if isinstance(value, dict | EnterPhases) else "list"


EnterField = Annotated[
    Annotated[MethodNames, Tag("list")] | Annotated[EnterPhases, Tag("phases")],
    Discriminator(_enter_form),
    Field(
        description="Methods run in order when a container starts, before any input (`@modal.enter`); with "
        "`memory_snapshot`, {before_snapshot, after_restore} says which run before the snapshot is taken."
    ),
]


class ClassFunction(AppFunctionSettings):
    """A class (`package.module:Class`) deployed as a Modal class (`app.cls`)."""

    kind: Annotated[Literal["cls"], Field(description="`cls`: deploy a class of your code with `app.cls`.")]
    handler: Annotated[
        ImportPath,
        Field(
            description='Import path of the class: "package.module:Class"; built once per container, with its `parameters` as keyword arguments.'
        ),
    ]
    enter: EnterField = ()
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
    memory_snapshot: SnapshotField = MemorySnapshot(enabled=False)
    parameters: ParametersField = {}

    @property
    def enter_phases(self) -> EnterPhases | None:
        """The phases when `enter` is written as {before_snapshot, after_restore}; None for a list."""
        return self.enter if isinstance(self.enter, EnterPhases) else None

    @property
    def enter_before_snapshot(self) -> tuple[str, ...]:
        """The enter methods run before the memory snapshot (`@modal.enter(snap=True)`)."""
        phases = self.enter_phases
        return phases.before_snapshot if phases is not None else ()

    @property
    def enter_after_start(self) -> tuple[str, ...]:
        """The enter methods every container runs when it starts, after its restore when there
        is a snapshot (`@modal.enter()`, which is `snap=False`)."""
        enter = self.enter
        return enter.after_restore if isinstance(enter, EnterPhases) else tuple(enter)

    def listed_methods(self) -> list[tuple[str, tuple[str | int, ...], str]]:
        """(section, key path below the function, method name) of every method the lists name, in
        manifest order; the section is enter, exit, methods or batched."""
        listed: list[tuple[str, tuple[str | int, ...], str]] = []
        enter = self.enter
        if isinstance(enter, EnterPhases):
            for phase, names in (("before_snapshot", enter.before_snapshot), ("after_restore", enter.after_restore)):
                listed += [("enter", ("enter", phase, i), name) for i, name in enumerate(names)]
        else:
            listed += [("enter", ("enter", i), name) for i, name in enumerate(enter)]
        listed += [("exit", ("exit", i), name) for i, name in enumerate(self.exit)]
        listed += [("methods", ("methods", i), name) for i, name in enumerate(self.methods)]
        listed += [("batched", ("batched", name), name) for name in self.batched]
        return listed

    @model_validator(mode="after")
    def _check(self) -> ClassFunction:
        seen: dict[str, str] = {}
        for section, at, name in self.listed_methods():
            if name in seen:
                where = "twice" if seen[name] == section else f"also in `{seen[name]}`"
                raise fail(
                    f"method {name!r} is listed {where}",
                    hint="name each method once: a hook is not callable remotely, and a method has one decorator",
                    at=at,
                )
            seen[name] = section
        for name in self.parameters:
            if name in seen:
                raise fail(
                    f"parameter {name!r} has the name of a method listed in `{seen[name]}`",
                    hint="a parameter is an attribute of the class, as a method is: rename one of them",
                    at=("parameters", name),
                )
        self._check_snapshot()
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

    def _check_snapshot(self) -> None:
        snapshot, phases = self.memory_snapshot, self.enter_phases
        if phases is not None and not snapshot.enabled:
            written = [phase for phase in ("before_snapshot", "after_restore") if phase in phases.model_fields_set]
            raise fail(
                "enter phases need a memory snapshot: without one there is no snapshot to run before or restore from",
                hint="add `memory_snapshot: true`, or list the enter methods as `enter: [...]`",
                at=("enter", written[0]) if written else ("enter",),
            )
        if snapshot.enabled and phases is None and self.enter:
            raise fail(
                "with a memory snapshot, say when each enter method runs",
                hint="write enter: {before_snapshot: [...]} for methods whose work the snapshot keeps (loading), "
                "and {after_restore: [...]} for those every restored container runs (Modal's plain @modal.enter())",
                at=("enter",),
            )
        if snapshot.gpu and self.gpu is None:
            raise fail(
                "a GPU snapshot needs a GPU",
                hint="set `gpu:` on this function, or make it memory_snapshot: true",
                at=("memory_snapshot", "gpu"),
            )


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
