"""The tiny test model: a real command line, and a shape every local engine accepts.

vLLM's CPU attention needs a head size of at least 32 (with 16 it answers /health and dies on the
first request), and refuses a `max_model_len` above the model's `max_position_embeddings`; the
model stands in for the shipped manifests' models, so it must allow the longest context they ask
for. tests/bench/test_bench_against_vllm.py serves it with vLLM where vLLM is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.local.tiny_model import write_tiny_chat_model
from engine.manifest.load import discover_manifests, environments_of
from engine.planner.plan import plan_file

REPO = Path(__file__).resolve().parents[2]
VLLM_CPU_MIN_HEAD_SIZE = 32


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> dict:
    folder = write_tiny_chat_model(tmp_path_factory.mktemp("tiny") / "model")
    return json.loads((folder / "config.json").read_text())


def _longest_shipped_context() -> int:
    contexts = []
    for manifest in discover_manifests([REPO / "manifests"]):
        for env in (None, *environments_of(manifest)):
            contexts += [s.context_length or 0 for s in plan_file(manifest, env).servers]
    return max(contexts)


def test_head_size_is_one_vllms_cpu_attention_accepts(config):
    assert config["hidden_size"] // config["num_attention_heads"] >= VLLM_CPU_MIN_HEAD_SIZE
    assert config["head_dim"] >= VLLM_CPU_MIN_HEAD_SIZE


def test_context_covers_every_shipped_manifests_max_model_len(config):
    longest = _longest_shipped_context()
    assert longest >= 8192  # the manifests do ask for long contexts: this check can fail
    assert config["max_position_embeddings"] >= longest


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    "entry",
    [["-m", "engine.local.tiny_model"], [str(REPO / "tests" / "support" / "tiny_model.py")]],
    ids=["module", "tests-support-script"],
)
def test_help_is_help_not_a_folder_name(entry, tmp_path):
    done = _run(*entry, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: python -m engine.local.tiny_model")
    assert "DIR" in done.stdout and "--seed" in done.stdout
    assert list(tmp_path.iterdir()) == []


def test_writes_the_model_into_the_folder_named(tmp_path):
    done = _run("-m", "engine.local.tiny_model", "out/tiny", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "out/tiny"
    assert done.stderr == ""  # no progress bars
    names = {p.name for p in (tmp_path / "out" / "tiny").iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "generation_config.json"} <= names


def test_old_vllm_flag_still_runs(tmp_path):
    done = _run(str(REPO / "tests" / "support" / "tiny_model.py"), str(tmp_path / "m"), "--vllm", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "m" / "config.json").read_text())["head_dim"] >= VLLM_CPU_MIN_HEAD_SIZE


def test_heads_that_do_not_divide_the_width_are_one_line(tmp_path):
    done = _run("-m", "engine.local.tiny_model", str(tmp_path / "m"), "--attention-heads", "3", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "error: --attention-heads must divide 64 and be a positive multiple of --kv-heads\n"
    assert not (tmp_path / "m").exists()
