"""FunctionSpec with `cls` -> an `@app.cls` built around the user's class.

The Modal class is made here with `type(symbol, (), namespace)`: its `__name__`, `__qualname__`
and `__module__` are the entry module's, so Modal records implementation name `Symbol.*` and the
container finds it again with `getattr(entry_module, symbol)`, as it finds servers.

The user's class stays plain Python and is imported only in the container's start-up, never when
the entry module is imported (the container rebuilds every object, including ones whose packages
its image lacks). Modal refuses a custom `__init__` on a Modal class, so the instance is made in
the first `@modal.enter` method, which then runs the manifest's `enter` methods in order (one enter
per hook would run them in an order Modal chooses); the one `@modal.exit` method runs `exit` in
order. With a memory snapshot the instance is made, and `before_snapshot` run, in a
`@modal.enter(snap=True)` method, so the snapshot holds what they loaded; the `@modal.enter(snap=False)`
one runs `enter` after every restore.

Class parameters are annotated `modal.parameter()` attributes of the Modal class (Modal reads
`__annotations__` for their types); Modal sets them on the Modal instance before any enter
method, and the first one hands them to the user's class as keyword arguments.

Each listed method becomes a `@modal.method` (or the `@modal.batched` one) that calls the
instance's method; an `async def` result is run to completion, as plain functions' are.

Batching maps the collected inputs to parameter names, so in the container the batched method's
`__wrapped__` shows the user's method's signature (imported when Modal first asks, see
handlers.expose_signature); it is attached after registration, which must import nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import modal

from engine.blueprint.model import ClassSpec, FunctionSpec
from engine.modal_backend.calls import building
from engine.modal_backend.functions import _run_to_completion, invocable_kwargs, retries_argument
from engine.modal_backend.handlers import HandlerRef
from engine.modal_backend.resources import Resources

# Attributes of the Modal class mdeploy adds besides the user's methods; a manifest method name
# cannot start with "_", so none can clash.
INSTANCE_ATTR = "_mdeploy_instance"
SNAPSHOT_ENTER_NAME = "_mdeploy_before_snapshot"
ENTER_NAME = "_mdeploy_enter"
EXIT_NAME = "_mdeploy_exit"
# The Python type of each ClassParameterSpec.type, as `modal.parameter()` annotations need it.
PARAMETER_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool, "bytes": bytes}


class MethodSignature:
    """The signature of method `name` of the handler's class, read when someone asks (including
    `self`: Modal binds the method to the instance, and binding drops the first parameter)."""

    def __init__(self, handler: HandlerRef, name: str):
        self.handler, self.name = handler, name

    @property
    def __signature__(self) -> inspect.Signature:
        return inspect.signature(getattr(self.handler.target, self.name), eval_str=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:  # never called: only read for its signature
        return getattr(self.handler.target, self.name)(*args, **kwargs)


def make_class(spec: FunctionSpec, module_name: str) -> tuple[type, dict[str, Callable[..., Any]], HandlerRef]:
    """The Modal class (not yet registered), its method wrappers by name, and the handler."""
    cls = _class_spec(spec)
    handler = HandlerRef(spec.handler)
    namespace: dict[str, Any] = {"__module__": module_name, "__doc__": f"mdeploy class {spec.key!r}: {spec.handler}"}

    snapshot = spec.container.enable_memory_snapshot
    if cls.before_snapshot and not snapshot:
        raise ValueError(f"class {spec.key!r}: before_snapshot methods need container.enable_memory_snapshot")

    def make_instance(self: Any) -> Any:
        instance = handler.target(**{p.name: getattr(self, p.name) for p in cls.parameters})
        setattr(self, INSTANCE_ATTR, instance)
        return instance

    def before_snapshot(self: Any) -> None:
        instance = make_instance(self)
        for hook in cls.before_snapshot:
            _run_to_completion(getattr(instance, hook)())

    def enter(self: Any) -> None:
        instance = getattr(self, INSTANCE_ATTR) if snapshot else make_instance(self)
        for hook in cls.enter:
            _run_to_completion(getattr(instance, hook)())

    if snapshot:
        namespace[SNAPSHOT_ENTER_NAME] = modal.enter(snap=True)(
            _named(before_snapshot, SNAPSHOT_ENTER_NAME, spec.symbol, module_name)
        )
    if cls.enter or not snapshot:  # without a snapshot, this is where the instance is made
        namespace[ENTER_NAME] = modal.enter(snap=False)(_named(enter, ENTER_NAME, spec.symbol, module_name))
    if cls.exit:

        def exit_(self: Any) -> None:
            instance = getattr(self, INSTANCE_ATTR, None)
            if instance is None:  # the enter method failed before the instance existed
                return
            for hook in cls.exit:
                _run_to_completion(getattr(instance, hook)())

        namespace[EXIT_NAME] = modal.exit()(_named(exit_, EXIT_NAME, spec.symbol, module_name))
    wrappers: dict[str, Callable[..., Any]] = {}
    for name in cls.methods:
        wrappers[name] = _method(name, spec.symbol, module_name)
        with building(("functions", spec.key), "class method"):
            namespace[name] = modal.method()(wrappers[name])
    for batched in cls.batched:
        wrappers[batched.name] = _method(batched.name, spec.symbol, module_name)
        with building(("functions", spec.key), "class batched"):
            namespace[batched.name] = modal.batched(max_batch_size=batched.max_batch_size, wait_ms=batched.wait_ms)(
                wrappers[batched.name]
            )
    _add_parameters(namespace, spec)  # last: a parameter named like a method is refused
    made = type(spec.symbol, (), namespace)
    made.__qualname__ = spec.symbol
    return made, wrappers, handler


def _add_parameters(namespace: dict[str, Any], spec: FunctionSpec) -> None:
    """`name: type = modal.parameter(default=...)` for each class parameter."""
    cls = _class_spec(spec)
    annotations: dict[str, type] = {}
    for parameter in cls.parameters:
        if parameter.name in namespace:
            raise ValueError(f"class {spec.key!r}: parameter {parameter.name!r} has the name of a method")
        annotations[parameter.name] = PARAMETER_TYPES[parameter.type]
        if parameter.default is None:
            namespace[parameter.name] = modal.parameter()
        else:
            namespace[parameter.name] = modal.parameter(default=parameter.python_default)
    if annotations:
        namespace["__annotations__"] = annotations


def add_class(
    app: modal.App,
    spec: FunctionSpec,
    module_name: str,
    images: dict[str, modal.Image],
    resources: Resources,
    *,
    in_container: bool,
    env_values: Mapping[str, str] | None = None,
) -> Any:
    made, wrappers, handler = make_class(spec, module_name)
    at = ("functions", spec.key)
    decorated: Any = made
    if spec.concurrency is not None:
        with building(at, "concurrent"):
            decorated = modal.concurrent(
                max_inputs=spec.concurrency.max_inputs, target_inputs=spec.concurrency.target_inputs
            )(decorated)
    kwargs = class_kwargs(spec, images, resources, env_values)
    with building(at, "app.cls"):
        registered = app.cls(**kwargs)(decorated)
    if in_container:
        for batched in _class_spec(spec).batched:
            wrappers[batched.name].__wrapped__ = MethodSignature(handler, batched.name)  # type: ignore[attr-defined]
    return registered


def class_kwargs(
    spec: FunctionSpec,
    images: dict[str, modal.Image],
    resources: Resources,
    env_values: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`app.cls` keywords: those of a function, less `name` and `schedule` (a class has neither),
    plus the start-up timeout of the enter hooks."""
    cls = _class_spec(spec)
    kwargs = invocable_kwargs(spec, images, resources, env_values, "app.cls")
    with building(("functions", spec.key), "retries"):
        kwargs["retries"] = retries_argument(spec.retries)
    if cls.startup_timeout is not None:
        kwargs["startup_timeout"] = cls.startup_timeout
    if spec.schedule is not None or spec.batching is not None or spec.web is not None:
        raise ValueError(f"class {spec.key!r}: a class has no schedule, function batching or web (see ClassSpec)")
    return kwargs


def _class_spec(spec: FunctionSpec) -> ClassSpec:
    if spec.cls is None:
        raise ValueError(f"function {spec.key!r} is not a class")
    return spec.cls


def _method(name: str, symbol: str, module_name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _run_to_completion(getattr(getattr(self, INSTANCE_ATTR), name)(*args, **kwargs))

    return _named(method, name, symbol, module_name)


def _named(f: Callable[..., Any], name: str, symbol: str, module_name: str) -> Callable[..., Any]:
    f.__name__ = name
    f.__qualname__ = f"{symbol}.{name}"
    f.__module__ = module_name
    return f
