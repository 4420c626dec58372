"""Rules of `diff_blueprints`: per object, per field, old -> new, with the cost change."""

from __future__ import annotations

import dataclasses

import pytest

from engine.blueprint.model import DictSpec, ImageStep, ScalingSpec, SecretSpec, VolumeSpec
from engine.plan.diff import diff_blueprints


def _with_server(blueprint, **container_changes):
    server = blueprint.servers[0]
    container = dataclasses.replace(server.container, **container_changes)
    return dataclasses.replace(blueprint, servers=(dataclasses.replace(server, container=container),))


def test_identical_blueprints_are_unchanged(blueprint):
    diff = diff_blueprints(blueprint, blueprint)
    assert diff.status == "unchanged" and not diff.changed and diff.objects == ()


def test_changed_field_is_reported_with_its_dotted_path_and_both_values(blueprint):
    new = _with_server(blueprint, gpu=("A100-80GB",))
    (obj,) = diff_blueprints(blueprint, new).objects
    assert (obj.kind, obj.key, obj.status) == ("server", "chat", "changed")
    assert [(f.path, f.old, f.new) for f in obj.fields] == [("container.gpu", ["H100:2"], ["A100-80GB"])]


def test_only_the_changed_fields_are_reported(blueprint):
    scaling = dataclasses.replace(blueprint.servers[0].container.scaling, max_containers=8, scaledown_window=300)
    (obj,) = diff_blueprints(blueprint, _with_server(blueprint, scaling=scaling)).objects
    assert {f.path for f in obj.fields} == {"container.scaling.max_containers", "container.scaling.scaledown_window"}


def test_added_and_removed_objects_are_reported_by_kind_and_key(blueprint):
    new = dataclasses.replace(blueprint, volumes=(), dicts=blueprint.dicts + (DictSpec("cache", "cache"),))
    statuses = {(o.kind, o.key): o.status for o in diff_blueprints(blueprint, new).objects}
    assert statuses == {("volume", "hf-cache"): "removed", ("dict", "cache"): "added"}


def test_renamed_modal_object_is_one_field_change(blueprint):
    new = dataclasses.replace(blueprint, volumes=(VolumeSpec("hf-cache", "hf-cache-v2"),))
    (obj,) = diff_blueprints(blueprint, new).objects
    assert [(f.path, f.old, f.new) for f in obj.fields] == [("name", "huggingface-cache", "hf-cache-v2")]


def test_one_edited_image_step_is_one_field(blueprint):
    image = blueprint.images[0]
    steps = (dataclasses.replace(image.steps[0], args=("vllm==0.12.0", "huggingface-hub==0.35.0")),) + image.steps[1:]
    new = dataclasses.replace(blueprint, images=(dataclasses.replace(image, steps=steps), blueprint.images[1]))
    (obj,) = diff_blueprints(blueprint, new).objects
    assert [f.path for f in obj.fields] == ["steps[0].args"]


def test_appended_image_step_is_an_added_element(blueprint):
    image = blueprint.images[1]
    steps = image.steps + (ImageStep("run_commands", ("echo hi",)),)
    new = dataclasses.replace(blueprint, images=(blueprint.images[0], dataclasses.replace(image, steps=steps)))
    (obj,) = diff_blueprints(blueprint, new).objects
    (change,) = obj.fields
    assert (change.path, change.status, change.new) == (
        "steps[1]",
        "added",
        {"op": "run_commands", "args": ["echo hi"]},
    )


def test_gpu_change_reports_the_idle_and_peak_cost_change(blueprint):
    new = _with_server(blueprint, gpu=("L4:2",))
    diff = diff_blueprints(blueprint, new)
    (obj,) = diff.objects
    assert obj.cost.changed
    assert obj.cost.new.idle < obj.cost.old.idle
    assert diff.cost.new.idle < diff.cost.old.idle


def test_unbounding_max_containers_makes_peak_unbounded(blueprint):
    scaling = ScalingSpec(min_containers=1, max_containers=None, scaledown_window=900)
    (obj,) = diff_blueprints(blueprint, _with_server(blueprint, scaling=scaling)).objects
    assert not obj.cost.old.peak_unbounded and obj.cost.new.peak_unbounded


def test_non_compute_objects_carry_no_cost(blueprint):
    new = dataclasses.replace(blueprint, secrets=blueprint.secrets[:1])
    (obj,) = diff_blueprints(blueprint, new).objects
    assert obj.kind == "secret" and obj.cost is None


def test_environment_and_source_are_not_field_changes(blueprint):
    other = dataclasses.replace(blueprint, environment="dev", source="elsewhere.yaml")
    diff = diff_blueprints(other, blueprint)
    assert diff.status == "unchanged"
    assert (diff.old_environment, diff.environment) == ("dev", "prod")


def test_app_rename_is_an_app_field_change(blueprint):
    diff = diff_blueprints(blueprint, dataclasses.replace(blueprint, app="chat-v2"))
    assert [(f.path, f.old, f.new) for f in diff.app_fields] == [("app", "chat-llama", "chat-v2")]
    assert diff.changed


def test_missing_old_side_means_everything_was_added(blueprint):
    diff = diff_blueprints(None, blueprint)
    assert diff.status == "added"
    assert {o.status for o in diff.objects} == {"added"}
    assert diff.cost.old.idle == 0.0 and diff.cost.new.idle > 0


def test_missing_new_side_means_everything_was_removed(blueprint):
    diff = diff_blueprints(blueprint, None)
    assert diff.status == "removed" and {o.status for o in diff.objects} == {"removed"}


def test_two_missing_sides_are_a_programming_error():
    with pytest.raises(ValueError):
        diff_blueprints(None, None)


def test_required_key_names_change_shows_names_only(blueprint):
    new = dataclasses.replace(
        blueprint, secrets=(SecretSpec("hf", "huggingface-secret", ("HF_TOKEN", "HF_USER")), blueprint.secrets[1])
    )
    (obj,) = diff_blueprints(blueprint, new).objects
    assert [(f.path, f.new) for f in obj.fields] == [("required_keys", ["HF_TOKEN", "HF_USER"])]


def test_changed_app_tags_are_an_app_field(blueprint):
    diff = diff_blueprints(blueprint, dataclasses.replace(blueprint, tags={"team": "ml"}))
    assert diff.changed and [(f.path, f.old, f.new) for f in diff.app_fields] == [("tags", {}, {"team": "ml"})]
