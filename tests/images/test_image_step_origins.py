"""`mdeploy explain` for ordered steps: every field of every step has an origin, each pointing at
the key of the file that set it (the same two rules tests/blueprint/test_planner_origins.py
checks for the shipped manifests, on a recipe with every step kind)."""

from __future__ import annotations

from engine.blueprint.origins import DEFAULTS, ENGINE, MANIFEST, PLANNER, UNSET
from engine.manifest.validate import load_manifest
from engine.plan.explain import blueprint_view
from engine.planner.plan import plan_file_with_origins
from tests.images.recipes import write_manifest
from tests.images.test_image_steps_reach_modal import ORDERED


def _leaves(data, path=()):
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list) and data:
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path


def test_every_step_field_has_an_origin_at_a_key_the_file_sets(project):
    path = write_manifest(project, ORDERED, secrets="hub: {name: hub-token}\n")
    planned = plan_file_with_origins(path, None, {}, check_project=False)
    steps = [p for p in _leaves(blueprint_view(planned.blueprint)) if p[:3] == ("images", "x", "steps")]
    assert steps and [p for p in steps if planned.origins.find(p) is None] == []
    loaded = load_manifest(path, None, {})
    for at, origin in planned.origins.items():
        if origin.kind in (MANIFEST, DEFAULTS, ENGINE, PLANNER):
            for source in origin.sources:
                assert source.key in loaded.merged.spans, (at, source.key)


def test_the_origins_say_why_a_file_is_copied_and_where_a_timeout_comes_from(project):
    path = write_manifest(project, ORDERED.replace(", timeout: 10m", ""), secrets="hub: {name: hub-token}\n")
    origins = plan_file_with_origins(path, None, {}, check_project=False).origins

    def own(*path):
        where, origin = origins.find(("images", "x", "steps", *path))
        assert where == ("images", "x", "steps", *path)
        return origin

    copied = own(1, "copy")
    assert copied.kind == PLANNER and copied.sources[0].key == ("images", "x", "steps", 2)
    assert own(8, "copy").kind == UNSET
    timeout = own(6, "timeout")
    assert (timeout.kind, timeout.constant) == (PLANNER, "BUILD_FUNCTION_TIMEOUT")
    pre = own(2, "pre")
    assert pre.kind == MANIFEST and pre.sources[0].key == ("images", "x", "steps", 2, "pre")
