"""Rules of `explain_key`: manifest keys answer with their file position, Blueprint keys with
what decided them (a manifest key, defaults, an engine, or the planner)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.manifest.errors import Location
from engine.plan.explain import UnknownKey, explain_key, lookup, split_key


def _merged(data: dict, positions: dict[tuple, tuple[str, int]]):
    spans = {path: SimpleNamespace(key=None, value=Location(file, line, 1)) for path, (file, line) in positions.items()}
    return SimpleNamespace(data=data, spans=spans)


@pytest.fixture
def merged():
    return _merged(
        {
            "app": "chat-llama",
            "defaults": {"timeout": "1h"},
            "services": {
                "chat": {
                    "gpu": "H100:2",
                    "scaling": {"min_containers": 1, "max_containers": 4},
                    "volumes": {"/root/.cache/huggingface": "hf-cache"},
                }
            },
            "functions": {"ingest": {"handler": "pipeline.ingest:run"}},
            "images": {"base": {"python": "3.12"}},
            "volumes": {"hf-cache": {"name": "huggingface-cache"}},
        },
        {
            ("services", "chat", "gpu"): ("manifests/chat.prod.yaml", 4),
            ("services", "chat", "scaling", "max_containers"): ("manifests/chat.yaml", 20),
            ("services", "chat", "volumes", "/root/.cache/huggingface"): ("manifests/chat.yaml", 22),
            ("defaults", "timeout"): ("manifests/chat.yaml", 3),
        },
    )


def test_list_indices_may_be_written_with_brackets_or_dots():
    assert split_key("images.vllm.steps[1].args") == split_key("images.vllm.steps.1.args")


def test_keys_containing_dots_are_matched_whole():
    data = {"volumes": {"/root/.cache/huggingface": "hf"}}
    assert lookup(data, split_key("volumes./root/.cache/huggingface")) == ("hf", ("volumes", "/root/.cache/huggingface"))


def test_manifest_key_answers_with_value_and_the_file_that_set_it(merged, blueprint):
    ex = explain_key("services.chat.gpu", merged, blueprint)
    assert ex.found_in == "manifest"
    assert ex.value == "H100:2"
    assert ex.location == "manifests/chat.prod.yaml:4:1"


def test_manifest_key_shows_the_planned_value_too(merged, blueprint):
    ex = explain_key("services.chat.gpu", merged, blueprint)
    assert ex.has_planned and ex.planned == ["H100:2"]


def test_mount_path_key_with_dots_is_found(merged, blueprint):
    ex = explain_key("services.chat.volumes./root/.cache/huggingface", merged, blueprint)
    assert ex.value == "hf-cache" and ex.location == "manifests/chat.yaml:22:1"


def test_blueprint_key_planned_from_a_manifest_key_names_that_key(merged, blueprint):
    ex = explain_key("servers.chat.container.scaling.max_containers", merged, blueprint)
    assert ex.found_in == "blueprint" and ex.value == 4
    assert "services.chat.scaling.max_containers" in ex.origin
    assert ex.location == "manifests/chat.yaml:20:1"


def test_blueprint_key_not_in_any_file_is_decided_by_the_planner(merged, blueprint):
    ex = explain_key("functions.embed.container.scaling.scaledown_window", merged, blueprint)
    assert ex.value == 60
    assert "planner default" in ex.origin and ex.location is None


def test_server_launch_command_is_decided_by_its_engine(merged, blueprint):
    ex = explain_key("servers.chat.command", merged, blueprint)
    assert ex.value == list(blueprint.servers[0].command)
    assert "vllm engine" in ex.origin


def test_server_setting_not_in_the_manifest_names_the_engine_and_planner(merged, blueprint):
    ex = explain_key("servers.chat.container.scaling.scaledown_window", merged, blueprint)
    assert ex.value == 900
    assert "not set in any manifest file" in ex.origin and "vllm" in ex.origin


def test_container_setting_from_defaults_says_so(merged, blueprint):
    ex = explain_key("functions.ingest.timeout", merged, blueprint)
    assert ex.origin == "inherited from defaults.timeout"
    assert ex.location == "manifests/chat.yaml:3:1"


def test_image_not_in_the_manifest_is_the_engines_recipe(merged, blueprint):
    ex = explain_key("images.vllm.registry_ref", merged, blueprint)
    assert "vllm engine's default image recipe" in ex.origin


def test_unknown_key_is_reported(merged, blueprint):
    with pytest.raises(UnknownKey):
        explain_key("services.chat.nonsense", merged, blueprint)


def test_blueprint_object_is_addressed_by_manifest_key_not_list_index(merged, blueprint):
    with pytest.raises(UnknownKey):
        explain_key("servers.0.command", merged, blueprint)


def test_an_empty_key_is_unknown_not_the_whole_manifest(merged, blueprint):
    with pytest.raises(UnknownKey):
        explain_key(".", merged, blueprint)


def test_element_of_a_value_widened_from_a_scalar_names_that_scalar(merged, blueprint):
    ex = explain_key("servers.chat.container.gpu.0", merged, blueprint)
    assert ex.value == "H100:2"
    assert ex.origin == "planned from the manifest key services.chat.gpu"
    assert ex.location == "manifests/chat.prod.yaml:4:1"


def test_a_key_below_a_mapping_the_manifest_sets_is_not_credited_to_that_mapping(merged, blueprint):
    ex = explain_key("servers.chat.container.scaling.buffer_containers", merged, blueprint)
    assert "not set in any manifest file" in ex.origin and ex.location is None


def test_a_blueprint_object_names_the_manifest_entry_it_was_planned_from(merged, blueprint):
    ex = explain_key("servers.chat", merged, blueprint)
    assert ex.origin == "planned from the manifest key services.chat"
