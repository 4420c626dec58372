"""The ejected file and engine/entry.py's builder make the same app from the same Blueprint.

Both apps are read back through Modal's own offline introspection (`Function.info()`, which is
what `Server.info()` is made from) into a normalized dict per object, and compared whole.
"""

from __future__ import annotations

import sys
import types

import pytest

from engine.eject.render import render_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _entry_app(blueprint, module_name: str):
    from engine.modal_backend.app import build_app

    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    return build_app(blueprint, module.__dict__, module_name, in_container=False)


def test_ejected_app_reads_back_like_the_entry_app(blueprint, import_source, read_back):
    ejected = import_source(render_app(blueprint))
    assert read_back(ejected.app) == read_back(_entry_app(blueprint, "entry_for_eject_comparison"))


def test_comparison_sees_a_difference(blueprint, import_source, read_back, make_server):
    # Guard against a comparison that cannot fail: a different port must show.
    ejected = import_source(render_app(blueprint))
    import dataclasses

    other = dataclasses.replace(blueprint, servers=(make_server(port=9000),))
    assert read_back(ejected.app) != read_back(_entry_app(other, "entry_for_eject_difference"))
