"""Blueprints written by hand for the eject tests, so they do not depend on the planner."""

from __future__ import annotations

import pytest

from tests.support.blueprints import full_blueprint, full_server


@pytest.fixture
def blueprint():
    """Every kind of object and option eject renders, in one app (tests/support/blueprints.py)."""
    return full_blueprint()


@pytest.fixture
def make_server():
    """The full blueprint's vLLM server, with the fields given changed (its command derived unless given)."""
    return full_server


# ---------------------------------------------------------------------------------------------
# Reading an app back through Modal's own introspection (no network: dehydrated handles)


def _period_seconds(schedule: str) -> str:
    """`Period(hours=4)` and `Period(seconds=14400.0)` are the same schedule: compare seconds."""
    import re

    if not schedule.startswith("Period("):
        return schedule
    units = {
        "years": 365 * 86400,
        "months": 30 * 86400,
        "weeks": 7 * 86400,
        "days": 86400,
        "hours": 3600,
        "minutes": 60,
        "seconds": 1,
    }
    total = sum(units[u] * float(n) for u, n in re.findall(r"(\w+)=([\d.]+)", schedule))
    return f"Period(seconds={total:g})"


def normalized_info(app) -> dict[str, dict]:
    """Every object of a `modal.App`, by Modal name, as a dict of the fields `info()` reports.

    Left out: the image id (None until deployed) and the app-level secret that carries the
    Blueprint into entry.py's containers (an ejected app has no Blueprint to carry).
    """
    import asyncio
    import dataclasses

    from engine.blueprint.codec import ENV_VAR

    objects = {}
    for tag, function in sorted(app._local_state.functions.items()):
        # The private registry holds Modal's async implementation objects; a dehydrated handle's
        # info() does no I/O, so running the coroutine directly is safe.
        info = dataclasses.asdict(asyncio.run(function.info()))
        info.pop("image_info")
        info["secrets"] = [s for s in info["secrets"] if ENV_VAR not in s]
        if info["schedule"] is not None:
            info["schedule"] = _period_seconds(info["schedule"])
        info.update(_not_in_info(function))
        objects[tag] = info
    return objects


def _not_in_info(function) -> dict:
    """What a class sends that `info()` leaves out, read from what its loader hands the client:
    the memory snapshot settings, the class parameter schema, and which enter/exit hooks it has
    (by their flags: the two files name their hook methods differently)."""
    from google.protobuf.json_format import MessageToDict
    from modal._partial_function import _find_partial_methods_for_user_cls, _PartialFunctionFlags

    load = function._load
    cells = dict(zip(load.__code__.co_freevars, (c.cell_contents for c in load.__closure__ or ())))
    found = {key: cells.get(key) for key in ("enable_memory_snapshot", "experimental_options")}
    source = cells.get("info")
    if source is not None and source.is_service_class():
        found["class_parameters"] = MessageToDict(source.class_parameter_info())
        hooks = _PartialFunctionFlags.ENTER_PRE_SNAPSHOT | _PartialFunctionFlags.ENTER_POST_SNAPSHOT
        partials = _find_partial_methods_for_user_cls(source.user_cls, hooks | _PartialFunctionFlags.EXIT)
        found["lifecycle_hooks"] = sorted(int(p.flags) for p in partials.values())
    return found


@pytest.fixture
def read_back():
    return normalized_info


@pytest.fixture
def import_source(tmp_path):
    """Import Python source as a fresh module (as `modal deploy` would) and return the module."""
    import importlib.util
    import itertools
    import sys

    counter = itertools.count()

    def load(source: str):
        name = f"ejected_app_{next(counter)}"
        path = tmp_path / f"{name}.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module

    return load
