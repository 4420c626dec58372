"""Preflight's cache check over a fake Modal probe: does each cache volume hold the pinned
revision's snapshot folder? Planned from real manifests: a `models:` entry
(manifests/transcribe.yaml), an llm service's own hub model in the engines' shared cache
(manifests/chat.yaml), a service whose model is a `models:` key (manifests/lora.yaml), and a
service that moves or turns off its Hugging Face cache."""

from __future__ import annotations

import dataclasses
from fnmatch import fnmatch
from pathlib import Path

import pytest

from engine.planner.plan import plan_file
from engine.preflight.cache_checks import cached_models, hub_cache_folder
from engine.preflight.checks import PASS, SKIP, WARN, run_checks
from engine.preflight.fit import GIB
from engine.preflight.probes import Unavailable
from engine.preflight.report import exit_code
from tests.preflight.conftest import FakeModal

REPO = Path(__file__).resolve().parents[2]
WHISPER = ("openai/whisper-large-v3", "afda370583db9c5359511ed5d989400a6199dfe1")
WHISPER_FOLDER = f"hub/models--openai--whisper-large-v3/snapshots/{WHISPER[1]}"
LLAMA = ("meta-llama/Llama-3.1-8B-Instruct", "0e9e39f249a16976918f6564b8830bc894c89659")
LLAMA_FOLDER = f"hub/models--meta-llama--Llama-3.1-8B-Instruct/snapshots/{LLAMA[1]}"


class SizedHub:
    def __init__(self, size: int | None):
        self._size, self.asked = size, []

    def check_revision(self, model, revision):
        pass

    def config(self, model, revision):
        raise Unavailable("no config in this fake")

    def parameter_count(self, model, revision):
        return None

    def size(self, model, revision, patterns):
        self.asked.append((model, patterns))
        return self._size


@pytest.fixture(autouse=True)
def _in_the_repository(monkeypatch):
    monkeypatch.chdir(REPO)  # the manifest path as given (relative) is the one the command names


OFFLINE_HUB = Unavailable("HF_HUB_OFFLINE is set")


def _results(manifest, modal, hub=OFFLINE_HUB, environment=None):
    blueprint = plan_file(Path("manifests") / manifest if isinstance(manifest, str) else manifest, environment, {})
    results = run_checks(blueprint, modal, hub)
    return {r.check: r for r in results}, results


def test_a_cached_revision_passes_naming_the_volume_and_revision():
    modal = FakeModal(volumes={"transcribe-weights"}, files={("transcribe-weights", WHISPER_FOLDER): ("a", "b")})
    results, _ = _results("transcribe.yaml", modal)
    assert results["cache whisper"].status == PASS
    assert (
        results["cache whisper"].message
        == f"cached in volume 'transcribe-weights' (revision {WHISPER[1]}, 2 entries); "
        "not compared with the Hub's file list: HF_HUB_OFFLINE is set"
    )
    assert ("folder", "transcribe-weights", "main", WHISPER_FOLDER) in modal.calls


class ListingHub(SizedHub):
    """A Hub that lists the revision's files (the paths matching the patterns asked for)."""

    def __init__(self, files, fails=None):
        super().__init__(None)
        self._files, self._fails = files, fails

    def files(self, model, revision, patterns):
        self.asked.append((model, revision, patterns))
        if self._fails:
            raise self._fails
        return tuple(f for f in self._files if not patterns or any(fnmatch(f, p) for p in patterns))


def test_a_snapshot_holding_every_file_the_hub_lists_is_cached():
    # A file in a subfolder is looked for by its first folder: the listing is one level deep.
    hub = ListingHub(("config.json", "model.safetensors", "1_Pooling/config.json"))
    held = ("config.json", "model.safetensors", "1_Pooling")
    modal = FakeModal(volumes={"transcribe-weights"}, files={("transcribe-weights", WHISPER_FOLDER): held})
    results, _ = _results("transcribe.yaml", modal, hub)
    assert results["cache whisper"].status == PASS
    assert results["cache whisper"].message.endswith("3 entries)")
    # Asked for the entry's own files: its allow_patterns (manifests/transcribe.yaml).
    assert ("openai/whisper-large-v3", WHISPER[1], ("*.json", "*.safetensors", "*.txt")) in hub.asked


def test_a_snapshot_missing_files_is_partly_cached_naming_them():
    # What an interrupted prefetch leaves: some shards there, the rest not.
    shards = tuple(f"model-0000{i}-of-00005.safetensors" for i in range(1, 6))
    hub = ListingHub(("config.json", *shards))
    modal = FakeModal(
        volumes={"transcribe-weights"}, files={("transcribe-weights", WHISPER_FOLDER): ("config.json", shards[0])}
    )
    results, listed = _results("transcribe.yaml", modal, hub)
    result = results["cache whisper"]
    assert result.status == WARN
    assert result.message.startswith(
        f"partly cached in volume 'transcribe-weights' (revision {WHISPER[1]}): 4 of 6 files missing "
        f"({shards[1]}, {shards[2]}, {shards[3]} and 1 more)"
    )
    assert "mdeploy run --remote manifests/transcribe.yaml prefetch-models --env main" in result.message
    assert exit_code(listed, strict=False) == 0  # advisory, as "not cached" is


def test_a_servers_own_model_is_compared_with_the_files_the_engine_downloads():
    # Only the safetensors and JSON an engine loads count: a repository's .pth or README is not awaited.
    hub = ListingHub(("config.json", "model.safetensors", "consolidated.pth", "README.md"))
    modal = FakeModal(volumes={"huggingface-cache"}, files={("huggingface-cache", LLAMA_FOLDER): ("config.json",)})
    results, _ = _results("chat.yaml", modal, hub)
    result = results["cache llama"]
    assert result.status == WARN and "1 of 2 files missing (model.safetensors)" in result.message
    assert (LLAMA[0], LLAMA[1], ("*.safetensors", "*.json")) in hub.asked


def test_a_hub_that_cannot_list_leaves_a_snapshot_with_entries_cached_and_says_so():
    hub = ListingHub((), fails=Unavailable("the Hub timed out"))
    modal = FakeModal(volumes={"transcribe-weights"}, files={("transcribe-weights", WHISPER_FOLDER): ("a",)})
    results, _ = _results("transcribe.yaml", modal, hub)
    assert results["cache whisper"].status == PASS
    assert results["cache whisper"].message.endswith("not compared with the Hub's file list: the Hub timed out")


def test_not_cached_warns_with_the_size_and_the_prefetch_command_and_does_not_fail():
    modal = FakeModal(volumes={"transcribe-weights"})
    results, listed = _results("transcribe.yaml", modal, SizedHub(int(3.1 * GIB)))
    result = results["cache whisper"]
    assert result.status == WARN
    assert result.message.startswith(
        "not cached in volume 'transcribe-weights': the first cold start downloads 3.1 GiB of openai/whisper-large-v3"
    )
    command = "mdeploy run --remote manifests/transcribe.yaml prefetch-models --env main"
    assert f"run `{command}` (once the app is deployed) to fetch it ahead" in result.message
    assert exit_code(listed, strict=True) == 0


def test_without_the_hub_the_size_is_unknown_with_the_reason():
    results, _ = _results("transcribe.yaml", FakeModal(volumes={"transcribe-weights"}))
    assert "downloads openai/whisper-large-v3's weights (size unknown: HF_HUB_OFFLINE is set)" in (
        results["cache whisper"].message
    )


def test_a_volume_that_does_not_exist_yet_is_created_at_deploy():
    results, _ = _results("transcribe.yaml", FakeModal())
    assert results["cache whisper"].status == WARN
    assert results["cache whisper"].message.startswith(
        "volume 'transcribe-weights' does not exist yet (it is created at deploy): the first cold start downloads"
    )


def test_without_modal_it_cannot_tell_and_says_why():
    results, _ = _results("transcribe.yaml", Unavailable("no Modal credentials (set MODAL_TOKEN_ID)"))
    assert results["cache whisper"].status == SKIP
    assert results["cache whisper"].message == "cannot tell: no Modal credentials (set MODAL_TOKEN_ID)"


def test_modal_giving_up_midway_cannot_tell_either():
    modal = FakeModal(volumes={"transcribe-weights"}, fail_with=Unavailable("Modal did not answer: OSError"))
    results, _ = _results("transcribe.yaml", modal)
    assert (results["cache whisper"].status, results["cache whisper"].message) == (
        SKIP,
        "cannot tell: Modal did not answer: OSError",
    )


def test_an_llm_services_own_model_is_checked_in_the_engines_hugging_face_cache():
    hub = SizedHub(int(16.1 * GIB))
    results, _ = _results("chat.yaml", FakeModal(volumes={"huggingface-cache"}), hub)
    result = results["cache llama"]
    assert result.status == WARN
    assert result.message.startswith(
        "not cached in volume 'huggingface-cache': the first cold start downloads 16.1 GiB of meta-llama/Llama-3.1-8B-Instruct"
    )
    assert "declare it under `models:`" in result.message and "service llama" in result.message
    assert hub.asked == [(LLAMA[0], ("*.safetensors", "*.json"))]  # what the engine downloads

    cached = FakeModal(volumes={"huggingface-cache"}, files={("huggingface-cache", LLAMA_FOLDER): ("config.json",)})
    results, _ = _results("chat.yaml", cached)
    assert results["cache llama"].status == PASS


def test_a_service_whose_model_is_a_models_key_is_checked_once_as_the_entry():
    blueprint = plan_file(REPO / "manifests" / "lora.yaml", None, {})
    targets = cached_models(blueprint)
    assert [(t.check, t.volume, t.folder, t.model_key) for t in targets] == [
        ("cache llama", "weights", LLAMA_FOLDER, "llama")
    ]
    modal = FakeModal(volumes={"lora-weights"})
    results, _ = _results("lora.yaml", modal)
    assert "mdeploy run --remote manifests/lora.yaml prefetch-models --env main" in results["cache llama"].message
    assert [c for c in modal.calls if c[0] == "folder"] == [("folder", "lora-weights", "main", LLAMA_FOLDER)]


def _service(tmp_path, caches: str) -> Path:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\napp: m\nservices:\n  chat:\n    kind: llm\n    engine: vllm\n"
        f"    model: {{id: {LLAMA[0]}, revision: {LLAMA[1]}}}\n    gpu: H100\n{caches}",
        encoding="utf-8",
    )
    return manifest


def test_a_moved_cache_is_looked_up_below_its_new_mount(tmp_path):
    manifest = _service(tmp_path, "    caches:\n      huggingface: {path: /cache/hf, volume: hf-weights}\n")
    blueprint = plan_file(manifest, None, {})
    assert [(t.volume, t.folder) for t in cached_models(blueprint)] == [("hf-cache", LLAMA_FOLDER)]
    modal = FakeModal(volumes={"hf-weights"}, files={("hf-weights", LLAMA_FOLDER): ("config.json",)})
    results, _ = _results(manifest, modal)
    assert results["cache chat"].message.startswith("cached in volume 'hf-weights'")


def test_a_cache_turned_off_has_nothing_to_check(tmp_path):
    blueprint = plan_file(_service(tmp_path, "    caches:\n      huggingface: false\n"), None, {})
    assert cached_models(blueprint) == []


def test_huggingface_hubs_own_rule_for_its_cache_folder_in_the_container():
    assert hub_cache_folder({}) == "/root/.cache/huggingface/hub"
    assert hub_cache_folder({"HF_HOME": "/cache/hf/"}) == "/cache/hf/hub"
    assert hub_cache_folder({"XDG_CACHE_HOME": "/xdg"}) == "/xdg/huggingface/hub"
    assert hub_cache_folder({"HF_HOME": "/a", "HF_HUB_CACHE": "/b"}) == "/b"
    assert hub_cache_folder({"HUGGINGFACE_HUB_CACHE": "/c"}) == "/c"


def test_a_model_baked_into_the_image_is_not_looked_for_in_a_volume():
    """manifests/embeddings-baked.yaml: the image holds bge (a `- models:` step) and the entry
    names no volume (ModelSpec.volume None): there is no volume to ask about."""
    blueprint = plan_file("manifests/embeddings-baked.yaml", None)
    assert [(m.key, m.volume, m.images) for m in blueprint.models] == [("bge", None, ("baked",))]
    assert cached_models(blueprint) == []


def test_the_check_reads_the_models_volume_field_not_the_mounts():
    """transcribe.yaml's whisper is read from its mounted volume; the same Blueprint with the
    model's volume None (every user reading it from an image) has nothing to check, though the
    volume is still mounted; with a volume nothing mounts, the volume is still checked."""
    blueprint = plan_file("manifests/transcribe.yaml", None)
    (model,) = blueprint.models
    assert [(c.volume, c.folder) for c in cached_models(blueprint)] == [(model.volume, WHISPER_FOLDER)]
    baked = dataclasses.replace(blueprint, models=(dataclasses.replace(model, volume=None, images=("x",)),))
    assert cached_models(baked) == []
    unmounted = dataclasses.replace(
        blueprint,
        functions=tuple(
            dataclasses.replace(f, container=dataclasses.replace(f.container, mounts=())) for f in blueprint.functions
        ),
    )
    assert [c.volume for c in cached_models(unmounted)] == [model.volume]


def test_a_model_read_from_its_volume_by_one_function_and_baked_for_another_is_checked(tmp_path):
    (tmp_path / "m.yaml").write_text(
        f"""
version: 1
app: m
volumes: {{weights: {{name: weights}}}}
models:
  whisper: {{id: {WHISPER[0]}, revision: {WHISPER[1]}, volume: weights}}
images:
  baked:
    steps:
      - models: [whisper]
functions:
  a: {{handler: 'jobs:run', image: baked, models: [whisper]}}
  b: {{handler: 'jobs:run', models: [whisper]}}
"""
    )
    blueprint = plan_file(tmp_path / "m.yaml", None, {}, check_project=False)
    (model,) = blueprint.models
    assert (model.volume, model.images) == ("weights", ("baked",))
    assert [(c.check, c.volume) for c in cached_models(blueprint)] == [("cache whisper", "weights")]
