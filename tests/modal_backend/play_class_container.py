"""Run as a script: play a Modal container serving a class, print what happened (JSON).

Argument: JSON {"module_name", "implementation_name", "calls": {method: [args, ...]},
"batched": {method: [[args of one input], ...]}, "events_module": a module whose EVENTS list the
user's class appends to, and optionally "parameters": {name: value} a caller binds (a bytes value
written {"bytes": text}) and "snapshot": true to run the pre-snapshot enter methods first}.

As Modal's container does for a class service (`modal._runtime.user_code_imports`,
import_class_service and _LifecycleManager): find the class in the entry module by its
implementation name, bind the caller's parameters as the client does (its defaults applied from the
schema the class sends, proto-serialized) and read them back as the container does, make the
instance, run the pre-snapshot enter methods when there is a snapshot and then the post-snapshot
ones, call methods bound
to the instance (a batched one with one list per parameter, mapped by the bound method's
signature, as container_io_manager does), then run the exit methods.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys

from modal._runtime.task_lifecycle_manager import _TaskLifecycleManager

_TaskLifecycleManager._singleton = object()  # what makes modal.is_local() False in a container

import modal  # noqa: E402
from modal._partial_function import _find_callables_for_obj, _PartialFunctionFlags  # noqa: E402
from modal._runtime.user_code_imports import _get_cls_or_user_cls, get_user_class_instance  # noqa: E402
from modal._serialization import apply_defaults, deserialize_params, serialize_proto_params  # noqa: E402
from modal._utils.async_utils import synchronizer  # noqa: E402
from modal_proto import api_pb2  # noqa: E402


def _call(f, *args, **kwargs):
    result = f(*args, **kwargs)
    return asyncio.run(result) if inspect.isawaitable(result) else result


def _parameter_info(service_function) -> api_pb2.ClassParameterInfo:
    """What the client sends as the class's parameter schema (FunctionInfo.class_parameter_info)."""
    load = service_function._load
    cells = dict(zip(load.__code__.co_freevars, (c.cell_contents for c in load.__closure__)))
    return cells["info"].class_parameter_info()


def _bound_parameters(info: api_pb2.ClassParameterInfo, given: dict) -> dict:
    """The caller's keyword arguments, through the client's serialization and the container's."""
    values = {k: v["bytes"].encode() if isinstance(v, dict) else v for k, v in given.items()}
    serialized = serialize_proto_params(apply_defaults(values, info.schema))
    function_def = api_pb2.Function(class_parameter_info=info)
    _args, kwargs = deserialize_params(serialized, function_def, None)
    return kwargs


def main() -> None:
    request = json.loads(sys.argv[1])
    assert not modal.is_local()
    function_def = api_pb2.Function(
        module_name=request["module_name"], implementation_name=request["implementation_name"]
    )
    found = _get_cls_or_user_cls(function_def, None)
    _cls = synchronizer._translate_in(found)
    service_function = _cls._get_class_service_function()
    deps = [repr(d) for d in service_function._deps(only_explicit_mounts=True)]
    parameter_info = _parameter_info(service_function)
    partials = _cls._get_partial_functions()
    # The user's class is imported by the enter method, never by the entry module's import.
    imported_before_enter = request["events_module"] in sys.modules
    instance = get_user_class_instance(_cls, (), _bound_parameters(parameter_info, request.get("parameters", {})))
    if request.get("snapshot"):
        for enter in _find_callables_for_obj(instance, _PartialFunctionFlags.ENTER_PRE_SNAPSHOT).values():
            _call(enter)
    for enter in _find_callables_for_obj(instance, _PartialFunctionFlags.ENTER_POST_SNAPSHOT).values():
        _call(enter)
    results, signatures = {}, {}
    for name, inputs in request["calls"].items():
        bound = partials[name].raw_f.__get__(instance)
        results[name] = [_call(bound, *args) for args in inputs]
    for name, inputs in request["batched"].items():
        bound = partials[name].raw_f.__get__(instance)
        params = list(inspect.signature(bound).parameters)
        signatures[name] = str(inspect.signature(bound))
        kwargs = {p: [args[i] for args in inputs] for i, p in enumerate(params)}
        results[name] = _call(bound, **kwargs)
    for exit_ in _find_callables_for_obj(instance, _PartialFunctionFlags.EXIT).values():
        _call(exit_)
    events = importlib.import_module(request["events_module"]).EVENTS
    report = {
        "type": type(found).__name__,
        "partials": {name: int(p.flags) for name, p in partials.items()},
        "deps": deps,
        "parameter_schema": [[p.name, p.type, p.has_default] for p in parameter_info.schema],
        "imported_before_enter": imported_before_enter,
        "events": list(events),
        "results": results,
        "signatures": signatures,
    }
    print(json.dumps(report))


main()
