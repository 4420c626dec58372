"""An image is its steps in order: the same steps in another order are a different image (Modal
rebuilds from the first changed layer), so the diff must show a reordering, and a manifest that
only swaps two steps is not "unchanged"."""

from __future__ import annotations

from engine.plan.diff import diff_blueprints
from engine.planner.plan import plan_file
from tests.images.recipes import write_manifest

FIRST = 'x:\n  steps:\n    - apt: [curl]\n    - run: ["curl --version"]\n'
SWAPPED = 'x:\n  steps:\n    - run: ["curl --version"]\n    - apt: [curl]\n'


def test_swapping_two_steps_is_a_change_at_both_positions(project):
    old = plan_file(write_manifest(project, FIRST), None)
    new = plan_file(write_manifest(project, SWAPPED), None)
    diff = diff_blueprints(old, new)
    assert diff.status == "changed"
    (image,) = [o for o in diff.objects if o.key == "x"]
    assert [c.path for c in image.fields] == ["steps[0]", "steps[1]"]
    assert image.fields[0].old["op"] == "apt_install" and image.fields[0].new["op"] == "run_commands"


def test_the_same_steps_in_the_same_order_are_unchanged(project):
    old = plan_file(write_manifest(project, FIRST), None)
    again = plan_file(write_manifest(project, FIRST), None)
    assert diff_blueprints(old, again).status == "unchanged"


def test_the_unordered_form_keeps_its_fixed_order_whatever_the_file_says(project):
    # `run` written before `apt`: the unordered form still runs apt first, as it always did.
    unordered = plan_file(write_manifest(project, 'x:\n  run: ["curl --version"]\n  apt: [curl]\n'), None)
    ordered = plan_file(write_manifest(project, FIRST), None)
    assert [s.op for s in unordered.images[0].steps] == [s.op for s in ordered.images[0].steps]
    assert diff_blueprints(unordered, ordered).status == "unchanged"
