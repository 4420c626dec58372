"""Rendering rules of `render_diff`: the same diff in text, markdown and json."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.plan.diff import diff_blueprints
from engine.plan.render_diff import LabelledDiff, render_diff, render_diffs


@pytest.fixture
def gpu_diff(blueprint):
    server = blueprint.servers[0]
    container = dataclasses.replace(server.container, gpu=("A100-80GB",))
    new = dataclasses.replace(blueprint, servers=(dataclasses.replace(server, container=container),))
    return diff_blueprints(blueprint, new)


def test_text_shows_object_field_and_old_to_new(gpu_diff):
    out = render_diff(gpu_diff, "text", old_label="HEAD", new_label="working tree")
    assert "~ server chat" in out
    assert 'container.gpu: ["H100:2"] -> ["A100-80GB"]' in out
    assert "HEAD -> working tree" in out


def test_text_shows_cost_change_with_delta(gpu_diff):
    out = render_diff(gpu_diff, "text")
    cost_line = next(line for line in out.splitlines() if line.strip().startswith("cost:"))
    # CPU and memory stay; the delta is the GPU alone (2 x H100 -> 1 x A100-80GB).
    assert "idle $8.34/h -> $2.94/h (-$5.40/h)" in cost_line


def test_unchanged_diff_says_no_changes(blueprint):
    assert "no changes" in render_diff(diff_blueprints(blueprint, blueprint), "text")


def test_markdown_has_a_row_per_changed_field(gpu_diff):
    out = render_diff(gpu_diff, "markdown")
    assert '| ~ server `chat` | `container.gpu` | `["H100:2"]` | `["A100-80GB"]` |' in out
    assert "| **total** |" in out


def test_json_is_a_list_of_diffs_with_labels(gpu_diff):
    data = json.loads(render_diff(gpu_diff, "json", old_label="HEAD", new_label="working tree"))
    assert data[0]["old"] == "HEAD" and data[0]["new"] == "working tree"
    assert data[0]["objects"][0]["fields"][0] == {
        "path": "container.gpu",
        "old": ["H100:2"],
        "new": ["A100-80GB"],
        "status": "changed",
    }


def test_environment_comparison_names_both_environments(blueprint):
    dev = dataclasses.replace(blueprint, environment="dev")
    out = render_diff(diff_blueprints(blueprint, dev), "text", old_label="prod", new_label="dev")
    assert "prod -> dev" in out


def test_several_diffs_render_one_after_another(blueprint, gpu_diff):
    same = diff_blueprints(blueprint, blueprint)
    out = render_diffs([LabelledDiff(gpu_diff, "a", "b"), LabelledDiff(same, "a", "b")], "text")
    assert out.count("chat-llama [manifests/chat.yaml]") == 2


def test_no_diffs_say_so():
    assert "no manifests" in render_diffs([], "text")
    assert json.loads(render_diffs([], "json")) == []


def test_long_command_change_shows_only_the_changed_words(blueprint):
    server = blueprint.servers[0]
    flipped = tuple("--enforce-eager" if a == "2" else a for a in server.command)
    new = dataclasses.replace(blueprint, servers=(dataclasses.replace(server, command=flipped),))
    out = render_diff(diff_blueprints(blueprint, new), "text")
    assert "command: 2 -> --enforce-eager" in out
    assert "vllm serve" not in out


def test_short_list_change_shows_both_lists(gpu_diff):
    assert '["H100:2"] -> ["A100-80GB"]' in render_diff(gpu_diff, "text")
