"""Rules of the builders themselves: images, wrappers, server classes, symbols, determinism."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import itertools
import sys
import types

import pytest
from modal._partial_function import _find_partial_methods_for_user_cls, _PartialFunctionFlags

from engine.blueprint.model import FunctionSpec
from engine.modal_backend.app import RESOURCES_SYMBOL, build_app
from engine.modal_backend.functions import make_wrapper
from engine.modal_backend.servers import make_server_class
from tests.modal_backend.blueprints import all_blueprints, pipeline, vllm_server, web
from tests.modal_backend.introspect import build_into_module, dependency_reprs

_counter = itertools.count()


def _module_name() -> str:
    return f"mdeploy_rules_entry_{next(_counter)}"


def _lifecycle(cls, flag) -> set[str]:
    """Method names Modal will run for `flag` (the lookup Modal's container uses)."""
    return set(_find_partial_methods_for_user_cls(cls, flag))


def test_wrapper_carries_symbol_and_entry_module_names():
    spec = web().functions[0]
    wrapper, _handler = make_wrapper(spec, "entry")
    assert (wrapper.__name__, wrapper.__qualname__, wrapper.__module__) == (spec.symbol, spec.symbol, "entry")


def test_scheduled_wrapper_is_nullary():
    spec = pipeline().functions[0]
    assert spec.schedule is not None
    wrapper, _handler = make_wrapper(spec, "entry")
    assert inspect.signature(wrapper).parameters == {}


def test_asgi_wrapper_returns_the_imported_app():
    spec = dataclasses.replace(web().functions[1], handler="json:JSONDecoder")
    wrapper, _handler = make_wrapper(spec, "entry")
    import json

    assert wrapper() is json.JSONDecoder


def test_fastapi_wrapper_awaits_async_and_threads_sync_handlers(monkeypatch):
    handlers = types.ModuleType("mdeploy_fake_handlers")

    async def async_handler(x):
        return ("async", x)

    def sync_handler(x):
        return ("sync", x)

    handlers.async_handler, handlers.sync_handler = async_handler, sync_handler
    monkeypatch.setitem(sys.modules, "mdeploy_fake_handlers", handlers)
    base = web().functions[0]
    for name in ("async_handler", "sync_handler"):
        wrapper, _ = make_wrapper(dataclasses.replace(base, handler=f"mdeploy_fake_handlers:{name}"), "entry")
        assert inspect.iscoroutinefunction(wrapper)
        assert asyncio.run(wrapper(1)) == (name.split("_")[0], 1)


def test_plain_wrapper_runs_async_handler_to_completion(monkeypatch):
    handlers = types.ModuleType("mdeploy_fake_handlers2")

    async def double(x):
        return 2 * x

    handlers.double = double
    monkeypatch.setitem(sys.modules, "mdeploy_fake_handlers2", handlers)
    spec: FunctionSpec = dataclasses.replace(pipeline().functions[1], handler="mdeploy_fake_handlers2:double")
    wrapper, _ = make_wrapper(spec, "entry")
    assert wrapper(21) == 42


def test_handlers_are_not_imported_while_building(monkeypatch):
    blueprint = pipeline()
    missing = dataclasses.replace(blueprint.functions[1], handler="no_such_package_xyz.mod:run")
    blueprint = dataclasses.replace(blueprint, functions=(blueprint.functions[0], missing, blueprint.functions[2]))
    build_into_module(blueprint, _module_name(), in_container=True)
    assert "no_such_package_xyz" not in sys.modules


def test_server_without_snapshot_has_one_enter_and_an_exit():
    spec = dataclasses.replace(vllm_server().servers[0], snapshot=None)
    cls = make_server_class(spec, "entry")
    assert _lifecycle(cls, _PartialFunctionFlags.ENTER_PRE_SNAPSHOT) == set()
    assert _lifecycle(cls, _PartialFunctionFlags.ENTER_POST_SNAPSHOT) == {"start"}
    assert _lifecycle(cls, _PartialFunctionFlags.EXIT) == {"stop"}


def test_server_with_snapshot_starts_before_and_wakes_after_snapshot():
    cls = make_server_class(vllm_server().servers[0], "entry")
    assert _lifecycle(cls, _PartialFunctionFlags.ENTER_PRE_SNAPSHOT) == {"start_and_sleep"}
    assert _lifecycle(cls, _PartialFunctionFlags.ENTER_POST_SNAPSHOT) == {"wake"}
    assert _lifecycle(cls, _PartialFunctionFlags.EXIT) == {"stop"}


def test_server_class_is_named_for_the_entry_module():
    spec = vllm_server().servers[0]
    cls = make_server_class(spec, "entry")
    assert (cls.__name__, cls.__qualname__, cls.__module__) == (spec.symbol, spec.symbol, "entry")
    assert cls.__init__ is object.__init__  # Modal rejects server classes with a constructor


def test_snapshot_without_memory_snapshot_is_refused():
    blueprint = vllm_server()
    server = blueprint.servers[0]
    server = dataclasses.replace(server, container=dataclasses.replace(server.container, enable_memory_snapshot=False))
    with pytest.raises(ValueError, match="enable_memory_snapshot"):
        build_into_module(dataclasses.replace(blueprint, servers=(server,)), _module_name())


def test_a_function_with_a_scaleup_window_is_refused():
    # app.function has no such parameter; the planner never sets one, and a hand-made Blueprint
    # that does must not lose it silently.
    blueprint = pipeline()
    first = blueprint.functions[0]
    scaling = dataclasses.replace(first.container.scaling, scaleup_window=30)
    first = dataclasses.replace(first, container=dataclasses.replace(first.container, scaling=scaling))
    with pytest.raises(ValueError, match="scaleup_window"):
        build_into_module(dataclasses.replace(blueprint, functions=(first, *blueprint.functions[1:])), _module_name())


@pytest.mark.parametrize("symbol", ["app", RESOURCES_SYMBOL, "existing"])
def test_symbol_that_would_replace_an_entry_name_is_refused(symbol):
    blueprint = pipeline()
    first = dataclasses.replace(blueprint.functions[0], symbol=symbol)
    blueprint = dataclasses.replace(blueprint, functions=(first,))
    namespace = {"existing": object()}
    with pytest.raises(ValueError, match=f"symbol {symbol!r}"):
        build_app(blueprint, namespace, "entry")


def test_dicts_and_queues_are_tracked_beside_the_app():
    _app, module = build_into_module(pipeline(), _module_name())
    resources = getattr(module, RESOURCES_SYMBOL)
    assert list(resources.dicts) == ["processed"] and list(resources.queues) == ["todo"]


@pytest.mark.parametrize("name", sorted(all_blueprints()))
def test_same_blueprint_builds_same_dependencies_in_same_order(name):
    blueprint = all_blueprints()[name]
    _a, first = build_into_module(blueprint, _module_name())
    _b, second = build_into_module(blueprint, _module_name())
    for spec in [*blueprint.functions, *blueprint.servers]:
        assert dependency_reprs(getattr(first, spec.symbol)) == dependency_reprs(getattr(second, spec.symbol))


class _RecordingImage:
    """Stands in for modal.Image: records each call, in order, and returns itself."""

    def __init__(self, calls):
        self.calls = calls

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args, {k: v for k, v in kwargs.items() if v is not None}))
            return self

        return record


def _recorded_build(monkeypatch, spec):
    import engine.modal_backend.images as images

    calls: list = []
    monkeypatch.setattr(images, "modal", types.SimpleNamespace(Image=_RecordingImage(calls)))
    images.build_image(spec)
    return calls


def test_image_applies_base_entrypoint_steps_then_local_sources_last(monkeypatch):
    spec = vllm_server().images[0]
    calls = _recorded_build(monkeypatch, spec)
    assert [name for name, _args, _kwargs in calls] == [
        "from_registry",
        "entrypoint",
        "uv_pip_install",
        "env",
        "add_local_python_source",
    ]
    assert calls[0] == ("from_registry", (spec.registry_ref,), {"add_python": "3.12"})
    assert calls[1] == ("entrypoint", ([],), {})
    assert calls[2][1] == spec.steps[0].args
    assert calls[-1] == ("add_local_python_source", ("engine",), {})


def test_image_carries_exactly_the_sources_the_blueprint_lists(monkeypatch):
    # The planner decides what each image ships; the backend adds nothing of its own.
    spec = pipeline().images[0]
    calls = _recorded_build(monkeypatch, spec)
    sources = [args for name, args, _kwargs in calls if name == "add_local_python_source"]
    assert sources == [("engine", "workloads")]


def test_blueprint_tags_become_the_app_tags():
    tagged = dataclasses.replace(web(), tags={"team": "platform"})
    module = types.ModuleType(_module_name())
    app = build_app(tagged, vars(module), module.__name__)
    assert app._local_state.tags == {"team": "platform"}
    untagged = build_app(web(), vars(types.ModuleType("m")), _module_name())
    assert untagged._local_state.tags == {}
