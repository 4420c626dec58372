"""The prefetch function's body, offline: a fake huggingface_hub `snapshot_download` writes into a
temporary folder, and the function downloads each job's pinned revision into the cache folder
the plan gives, in huggingface_hub's layout, where the user's MDEPLOY_MODEL_<KEY> points."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from engine.planner.defaults import PREFETCH_PACKAGES
from engine.planner.plan import plan_file
from engine.runtime.prefetch import prefetch_models

REPO = Path(__file__).resolve().parents[2]


def _fake_hub(calls: list[dict]):
    def snapshot_download(*, repo_id, revision, cache_dir, allow_patterns):
        calls.append({"repo_id": repo_id, "revision": revision, "cache_dir": cache_dir, "allow": allow_patterns})
        folder = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}" / "snapshots" / revision
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text("{}")
        return str(folder)

    return types.SimpleNamespace(snapshot_download=snapshot_download)


def test_the_pinned_revision_lands_where_the_function_looks(tmp_path, monkeypatch):
    blueprint = plan_file(REPO / "manifests" / "transcribe.yaml", None, {})
    prefetch = next(f for f in blueprint.functions if f.key == "prefetch-models")
    user = next(f for f in blueprint.functions if f.key == "transcribe")
    # The container's /models/weights is a temporary folder here.
    root = str(tmp_path)
    jobs = json.loads(prefetch.container.env["MDEPLOY_PREFETCH"])
    for job in jobs:
        job["cache_dir"] = job["cache_dir"].replace("/models/weights", root, 1)
    monkeypatch.setenv("MDEPLOY_PREFETCH", json.dumps(jobs))
    calls: list[dict] = []
    monkeypatch.setitem(sys.modules, "huggingface_hub", _fake_hub(calls))

    fetched = prefetch_models()

    assert calls == [
        {
            "repo_id": "openai/whisper-large-v3",
            "revision": "afda370583db9c5359511ed5d989400a6199dfe1",
            "cache_dir": f"{root}/hub",
            "allow": ["*.json", "*.safetensors", "*.txt"],
        }
    ]
    expected = user.container.env["MDEPLOY_MODEL_WHISPER"].replace("/models/weights", root, 1)
    assert fetched == {"whisper": expected}
    assert (Path(expected) / "config.json").is_file()


def _hubless(monkeypatch, tmp_path, returncode: int) -> list[list[str]]:
    """An image without huggingface_hub: importing it fails until pip installs it. The pip run is
    faked: it writes a stand-in package into the --target folder it is given (no network)."""
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # `import huggingface_hub` raises ImportError
    runs: list[list[str]] = []

    def run(command, *args, **kwargs):
        runs.append(command)
        if returncode == 0:
            target = Path(command[command.index("--target") + 1])
            (target / "huggingface_hub").mkdir()
            (target / "huggingface_hub" / "__init__.py").write_text(
                "def snapshot_download(*, repo_id, revision, cache_dir, allow_patterns):\n"
                "    return f'{cache_dir}/models--{repo_id}/snapshots/{revision}'\n"
            )
            del sys.modules["huggingface_hub"]
        return types.SimpleNamespace(returncode=returncode)

    monkeypatch.setattr(subprocess, "run", run)
    job = {"key": "m", "repo": "org/m", "revision": "abc", "cache_dir": str(tmp_path / "hub"), "allow_patterns": []}
    monkeypatch.setenv("MDEPLOY_PREFETCH", json.dumps([job]))
    return runs


def test_an_image_without_huggingface_hub_gets_the_pinned_one_beside_its_packages(tmp_path, monkeypatch):
    runs = _hubless(monkeypatch, tmp_path, returncode=0)
    path_before = list(sys.path)

    fetched = prefetch_models()

    assert fetched == {"m": f"{tmp_path}/hub/models--org/m/snapshots/abc"}
    [command] = runs
    assert command[:4] == [sys.executable, "-m", "pip", "install"]
    assert command[-1] == PREFETCH_PACKAGES[0]  # the prefetch image's pin: the same cache layout
    target = Path(command[command.index("--target") + 1])
    assert not target.exists()  # removed again: nothing left in the image's layer
    assert sys.path == path_before


def test_a_failed_install_says_what_to_add(tmp_path, monkeypatch):
    _hubless(monkeypatch, tmp_path, returncode=1)
    with pytest.raises(RuntimeError, match="add huggingface-hub to a pip step before the step that fetches"):
        prefetch_models()


def test_an_image_with_huggingface_hub_installs_nothing(tmp_path, monkeypatch):
    calls: list[dict] = []
    monkeypatch.setitem(sys.modules, "huggingface_hub", _fake_hub(calls))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip ran though huggingface_hub is there"))
    job = {"key": "m", "repo": "org/m", "revision": "abc", "cache_dir": str(tmp_path / "hub"), "allow_patterns": []}
    monkeypatch.setenv("MDEPLOY_PREFETCH", json.dumps([job]))
    assert list(prefetch_models()) == ["m"] and len(calls) == 1
