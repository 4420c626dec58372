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


def test_comparison_sees_class_parameters_and_snapshot_hooks(import_source, read_back, monkeypatch):
    """`info()` reports neither a class's parameters nor its snapshot hooks: the read-back adds
    them, so an ejected class that differs in either shows."""
    import dataclasses
    from pathlib import Path

    from engine.planner.plan import plan_file

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    blueprint = plan_file(Path("manifests/classes.yaml"), None)
    entry = read_back(_entry_app(blueprint, "entry_for_class_comparison"))
    assert read_back(import_source(render_app(blueprint)).app) == entry

    def changed(key: str, **cls_changes):
        functions = tuple(
            dataclasses.replace(f, cls=dataclasses.replace(f.cls, **cls_changes)) if f.key == key else f
            for f in blueprint.functions
        )
        return read_back(import_source(render_app(dataclasses.replace(blueprint, functions=functions))).app)

    embedder = next(f for f in blueprint.functions if f.key == "embedder")
    flipped = tuple(dataclasses.replace(p, default=not p.default) for p in embedder.cls.parameters)
    assert changed("embedder", parameters=flipped) != entry
    assert changed("reranker", exit=()) != entry
    reranker = next(f for f in blueprint.functions if f.key == "reranker")
    no_snapshot = dataclasses.replace(reranker.container, enable_memory_snapshot=False)
    other = dataclasses.replace(
        blueprint,
        functions=tuple(
            dataclasses.replace(f, container=no_snapshot, cls=dataclasses.replace(f.cls, before_snapshot=()))
            if f.key == "reranker"
            else f
            for f in blueprint.functions
        ),
    )
    assert read_back(import_source(render_app(other)).app) != entry


def test_a_snapshot_class_without_after_restore_methods_has_no_post_snapshot_hook(
    import_source, read_back, monkeypatch
):
    """`enter: {before_snapshot: [load]}` and nothing after the restore: neither file declares an
    empty `@modal.enter(snap=False)` method; each has the pre-snapshot hook and the exit hook only."""
    import dataclasses
    from pathlib import Path

    from modal._partial_function import _PartialFunctionFlags

    from engine.planner.plan import plan_file

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    blueprint = plan_file(Path("manifests/classes.yaml"), None)
    functions = tuple(
        dataclasses.replace(f, cls=dataclasses.replace(f.cls, enter=())) if f.key == "reranker" else f
        for f in blueprint.functions
    )
    blueprint = dataclasses.replace(blueprint, functions=functions)
    source = render_app(blueprint)
    entry = read_back(_entry_app(blueprint, "entry_for_snapshot_without_restore"))
    assert read_back(import_source(source).app) == entry
    (hooks,) = [info["lifecycle_hooks"] for info in entry.values() if info.get("enable_memory_snapshot")]
    assert hooks == sorted([int(_PartialFunctionFlags.ENTER_PRE_SNAPSHOT), int(_PartialFunctionFlags.EXIT)])
    assert "snap=False" not in source and "pass" not in source


def test_a_bytes_default_reaches_modal_as_the_same_bytes_from_both(import_source, read_back, monkeypatch):
    """A bytes parameter's default is text in the manifest; both files must send its UTF-8 bytes,
    a non-ASCII one included (the class parameter schema, as the client sends it, is compared)."""
    import dataclasses
    from pathlib import Path

    from engine.planner.plan import plan_file

    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    blueprint = plan_file(Path("tests/modal_backend/data/seam/seam-classes.yaml"), None, environ={})
    function = next(f for f in blueprint.functions if f.cls and any(p.type == "bytes" for p in f.cls.parameters))
    parameters = tuple(
        dataclasses.replace(p, default="pépper ☕") if p.type == "bytes" else p for p in function.cls.parameters
    )
    accented = dataclasses.replace(
        blueprint,
        functions=tuple(
            dataclasses.replace(f, cls=dataclasses.replace(f.cls, parameters=parameters)) if f is function else f
            for f in blueprint.functions
        ),
    )
    for variant, name in ((blueprint, "entry_for_bytes_default"), (accented, "entry_for_accented_default")):
        entry = read_back(_entry_app(variant, name))
        assert read_back(import_source(render_app(variant)).app) == entry
    import base64

    sent = read_back(_entry_app(accented, "entry_for_accented_bytes"))[f"{function.symbol}.*"]["class_parameters"]
    (salt,) = (p for p in sent["schema"] if p["type"] == "PARAM_TYPE_BYTES")
    assert base64.b64decode(salt["bytesDefault"]) == "pépper ☕".encode()
