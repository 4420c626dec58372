"""Preflight of `models:` entries over fake probes: the pinned revision must exist on the Hub,
the size of the files fetched is reported, and the weights must fit the GPU of each function
that loads them (manifests/transcribe.yaml: Whisper on an L4)."""

from __future__ import annotations

from pathlib import Path

from engine.planner.plan import plan_file
from engine.preflight.checks import FAIL, PASS, SKIP, run_checks
from engine.preflight.fit import GIB
from engine.preflight.probes import NotOnHub, Unavailable

REPO = Path(__file__).resolve().parents[2]
WHISPER = ("openai/whisper-large-v3", "afda370583db9c5359511ed5d989400a6199dfe1")


class SizedHub:
    def __init__(self, size: int | None, known=(WHISPER,)):
        self.known, self._size, self.asked = set(known), size, []

    def check_revision(self, model, revision):
        if (model, revision) not in self.known:
            raise NotOnHub(f"{model} has no revision {revision}")

    def size(self, model, revision, patterns):
        self.asked.append(patterns)
        return self._size


def _results(hub):
    blueprint = plan_file(REPO / "manifests" / "transcribe.yaml", None, {})
    return {r.check: r for r in run_checks(blueprint, Unavailable("offline"), hub)}


def test_an_existing_revision_passes_with_its_size_and_fits_an_l4():
    hub = SizedHub(int(3.1 * GIB))
    results = _results(hub)
    assert results["models whisper"].status == PASS
    assert "exists at revision afda3705" in results["models whisper"].message
    assert "3.1 GiB to fetch" in results["models whisper"].message
    assert hub.asked == [("*.json", "*.safetensors", "*.txt")]  # the size of what is fetched
    assert results["fit whisper in transcribe"].status == PASS
    assert "L4:1 (24 GiB)" in results["fit whisper in transcribe"].message


def test_weights_larger_than_the_gpu_fail():
    results = _results(SizedHub(int(30 * GIB)))
    assert results["fit whisper in transcribe"].status == FAIL


def test_a_revision_the_hub_does_not_have_fails():
    results = _results(SizedHub(1, known=()))
    assert results["models whisper"].status == FAIL
    assert "has no revision" in results["models whisper"].message


def test_without_the_hub_the_checks_are_skipped_with_the_reason():
    results = _results(Unavailable("no network"))
    assert results["models whisper"].status == SKIP and results["models whisper"].message == "no network"
    assert results["fit whisper in transcribe"].status == SKIP


SQL = ("org/sql-lora", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678")
BASE = ("Qwen/Qwen2.5-0.5B-Instruct", "7ae557604adf67be50417f59c2c2f167def9a775")


class ServerHub(SizedHub):
    """Also asked for the base model's config by the server's own fit check: not known here."""

    def config(self, model, revision):
        raise NotOnHub(f"{model}: no config in this fake")


def _adapter_results(tmp_path, hub):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\napp: m\nvolumes:\n  weights: {name: weights}\nmodels:\n"
        f"  base: {{id: {BASE[0]}, revision: {BASE[1]}, volume: weights}}\n"
        f"  sql: {{id: {SQL[0]}, revision: {SQL[1]}, volume: weights}}\n"
        "  mine: {path: loras/mine, volume: weights}\n"
        "services:\n  chat: {kind: llm, engine: vllm, gpu: L4, model: base, adapters: [sql, mine]}\n"
    )
    blueprint = plan_file(manifest, None, {})
    return {r.check: r for r in run_checks(blueprint, Unavailable("offline"), hub)}


def test_lora_adapters_are_counted_in_the_servers_gpu_memory_as_a_note(tmp_path):
    results = _adapter_results(tmp_path, ServerHub(int(0.25 * GIB), known=(SQL, BASE)))
    note = results["adapters chat"]
    assert note.status == PASS
    assert "sql 0.25 GiB" in note.message and "mine (size unknown)" in note.message
    assert "less KV cache" in note.message


def test_lora_adapters_larger_than_the_engines_share_fail(tmp_path):
    results = _adapter_results(tmp_path, ServerHub(int(40 * GIB), known=(SQL, BASE)))
    assert results["adapters chat"].status == FAIL
