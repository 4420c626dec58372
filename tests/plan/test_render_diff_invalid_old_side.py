"""A diff whose old side was invalid at a git ref says so, in every format, without a problem's text."""

from __future__ import annotations

import json

import pytest

from engine.plan.diff import diff_blueprints
from engine.plan.render_diff import InvalidAtRef, LabelledDiff, invalid_note, render_diffs

INVALID = InvalidAtRef(problems=3, first_location="origin/main:manifests/chat.yaml:4:3", first_key="services.chat.gpu")


@pytest.fixture
def added_over_invalid(blueprint) -> LabelledDiff:
    return LabelledDiff(diff_blueprints(None, blueprint), "origin/main", "working tree", old_invalid=INVALID)


def test_note_names_the_manifest_the_ref_the_count_and_the_first_problem(added_over_invalid):
    assert invalid_note(added_over_invalid) == (
        "manifests/chat.yaml was invalid at origin/main (3 problems, first at "
        "origin/main:manifests/chat.yaml:4:3, key services.chat.gpu): everything shows as added"
    )


def test_note_counts_one_problem_in_the_singular(blueprint):
    one = InvalidAtRef(problems=1, first_location=None, first_key="")
    item = LabelledDiff(diff_blueprints(None, blueprint), "HEAD", "working tree", old_invalid=one)
    assert invalid_note(item) == "manifests/chat.yaml was invalid at HEAD (1 problem): everything shows as added"


def test_valid_old_side_has_no_note(blueprint):
    assert invalid_note(LabelledDiff(diff_blueprints(None, blueprint), "HEAD", "working tree")) is None


def test_text_shows_the_note_under_the_title(added_over_invalid):
    lines = render_diffs([added_over_invalid], "text").splitlines()
    assert lines[0].endswith("new: only on the new side")
    assert lines[1] == f"  ! {invalid_note(added_over_invalid)}"


def test_markdown_shows_the_note_as_a_quote_with_code_spans(added_over_invalid):
    out = render_diffs([added_over_invalid], "markdown")
    assert (
        "> **Note:** `manifests/chat.yaml` was invalid at `origin/main` (3 problems, first at "
        "`origin/main:manifests/chat.yaml:4:3`, key `services.chat.gpu`): everything shows as added"
    ) in out.splitlines()


def test_json_carries_the_note_and_the_counted_problems(added_over_invalid):
    (data,) = json.loads(render_diffs([added_over_invalid], "json"))
    assert data["note"] == invalid_note(added_over_invalid)
    assert data["old_invalid"] == {
        "problems": 3,
        "first_location": "origin/main:manifests/chat.yaml:4:3",
        "first_key": "services.chat.gpu",
    }
    assert data["status"] == "added"


def test_json_of_a_valid_old_side_has_no_note_keys(blueprint):
    (data,) = json.loads(render_diffs([LabelledDiff(diff_blueprints(blueprint, blueprint), "HEAD", "wt")], "json"))
    assert "note" not in data and "old_invalid" not in data
