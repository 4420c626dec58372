"""Rules of `explain_key`: manifest keys answer with their file position, Blueprint keys with the
origin the planner recorded when it decided them (a manifest key, defaults, the schema, an engine
and its inputs, or a planner default). Planned from real manifest files, base and overlay."""

from __future__ import annotations

import pytest

from engine.manifest.validate import load_manifest
from engine.plan.explain import UnknownKey, explain_key, lookup, split_key
from engine.planner.plan import plan_app_with_origins

BASE = """\
version: 1
app: chat
defaults:
  timeout: 1h
  cpu: 2
  memory: 4GiB
  buckets: {/raw: raw}
buckets:
  raw: {bucket: acme-raw}
images:
  base: {python: "3.12", pip: [fastapi==0.115.6]}
volumes:
  hf-cache: {name: huggingface-cache}
services:
  chat:
    kind: llm
    engine: vllm
    model: {id: meta-llama/Llama-3.1-8B-Instruct, revision: 0e9e39f249a16976918f6564b8830bc894c89659, served_name: "${SERVED:-llm}"}
    gpu: H100:2
    engine_args: {max_model_len: 8192}
    scaling: {min_containers: 1, max_containers: 4}
    volumes: {/root/.cache/huggingface: hf-cache}
functions:
  ingest: {handler: "pipeline.ingest:run", image: base}
"""
OVERLAY = "services:\n  chat:\n    gpu: ${GPU}\n"


@pytest.fixture
def explained(tmp_path):
    (tmp_path / "chat.yaml").write_text(BASE)
    (tmp_path / "chat.prod.yaml").write_text(OVERLAY)
    loaded = load_manifest(tmp_path / "chat.yaml", "prod", {"GPU": "H100:2"})
    planned = plan_app_with_origins(loaded)
    base, overlay = (tmp_path / "chat.yaml").as_posix(), (tmp_path / "chat.prod.yaml").as_posix()

    def explain(key: str):
        return explain_key(key, loaded.merged, planned.blueprint, planned.origins)

    explain.base, explain.overlay = base, overlay
    return explain


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_list_indices_may_be_written_with_brackets_or_dots():
    assert split_key("images.vllm.steps[1].args") == split_key("images.vllm.steps.1.args")


def test_keys_containing_dots_are_matched_whole():
    data = {"volumes": {"/root/.cache/huggingface": "hf"}}
    assert lookup(data, split_key("volumes./root/.cache/huggingface")) == (
        "hf",
        ("volumes", "/root/.cache/huggingface"),
    )


def test_manifest_key_answers_with_the_reference_and_the_overlay_that_set_it(explained):
    ex = explained("services.chat.gpu")
    assert ex.found_in == "manifest" and ex.value == "${GPU}"
    assert ex.location == f"{explained.overlay}:3:10"


def test_manifest_key_shows_the_planned_value_as_the_reference_too(explained):
    ex = explained("services.chat.gpu")
    assert ex.has_planned and ex.planned == ["${GPU}"]


def test_mount_path_key_with_dots_is_found(explained):
    ex = explained("services.chat.volumes./root/.cache/huggingface")
    line = _line_of(BASE, "/root/.cache/huggingface")
    col = BASE.splitlines()[line - 1].index("hf-cache") + 1
    assert ex.value == "hf-cache" and ex.location == f"{explained.base}:{line}:{col}"


def test_blueprint_key_planned_from_a_manifest_key_names_that_key(explained):
    ex = explained("servers.chat.container.scaling.max_containers")
    assert ex.found_in == "blueprint" and ex.value == 4
    assert ex.origin == "planned from the manifest key services.chat.scaling.max_containers"
    assert ex.location.startswith(f"{explained.base}:{_line_of(BASE, 'max_containers')}:")


@pytest.mark.parametrize("field, value", [("container.cpu", 2.0), ("container.memory", 4096), ("timeout", 3600)])
def test_setting_from_defaults_says_so(explained, field, value):
    """A function's timeout is its own field, not a container setting (servers have none)."""
    ex = explained(f"functions.ingest.{field}")
    name = field.rsplit(".", 1)[-1]
    assert ex.value == value and ex.origin == f"inherited from defaults.{name}"
    assert ex.location.startswith(f"{explained.base}:{_line_of(BASE, f'  {name}:')}:")


def test_a_mount_from_defaults_buckets_says_so(explained):
    ex = explained("functions.ingest.container.mounts.0")
    assert ex.value == {"path": "/raw", "kind": "bucket", "source": "raw"}
    assert ex.origin == "inherited from defaults.buckets./raw"


def test_a_key_the_schema_defaults_says_so(explained):
    ex = explained("servers.chat.container.scaling.buffer_containers")
    assert ex.value == 0 and "schema's default for services.chat.scaling.buffer_containers" in ex.origin
    assert ex.location is None


def test_planner_default_names_its_constant(explained):
    ex = explained("functions.ingest.container.scaling.scaledown_window")
    assert ex.value == 60
    assert ex.origin.startswith("the planner default FUNCTION_SCALEDOWN_WINDOW in engine/planner/defaults.py")


def test_server_launch_command_names_the_engine_and_the_manifest_keys_it_read(explained):
    ex = explained("servers.chat.command")
    assert ex.origin.startswith("decided by the vllm engine from ")
    assert "services.chat.engine_args.max_model_len" in ex.origin and "services.chat.model.id" in ex.origin


def test_one_argv_element_is_credited_to_its_engine_arg(explained):
    command = explained("servers.chat.command").value
    index = command.index("--max-model-len") + 1
    ex = explained(f"servers.chat.command.{index}")
    assert ex.value == "8192"
    assert ex.origin.startswith("decided by the vllm engine from services.chat.engine_args.max_model_len")


def test_argv_elements_from_a_variable_are_shown_as_the_reference(explained):
    command = explained("servers.chat.command").value
    assert "${SERVED:-llm}" in command and "llm" not in command
    assert "(from ${GPU})" in command  # --tensor-parallel-size, derived from the GPU count


def test_image_not_in_the_manifest_is_the_engines(explained):
    ex = explained("images.vllm-default.registry_ref")
    assert ex.origin == "decided by the vllm engine (not set in any manifest file)"


def test_unknown_key_is_reported(explained):
    with pytest.raises(UnknownKey):
        explained("services.chat.nonsense")


def test_blueprint_object_is_addressed_by_manifest_key_not_list_index(explained):
    with pytest.raises(UnknownKey):
        explained("servers.0.command")


def test_an_empty_key_is_unknown_not_the_whole_manifest(explained):
    with pytest.raises(UnknownKey):
        explained(".")


def test_element_of_a_value_widened_from_a_scalar_names_that_scalar(explained):
    ex = explained("servers.chat.container.gpu.0")
    assert ex.value == "${GPU}"
    assert ex.origin == "planned from the manifest key services.chat.gpu"
    assert ex.location == f"{explained.overlay}:3:10"


def test_a_blueprint_object_names_the_manifest_entry_it_was_planned_from(explained):
    ex = explained("servers.chat")
    assert ex.origin == "planned from the manifest key services.chat"
