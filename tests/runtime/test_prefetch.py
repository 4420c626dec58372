"""The prefetch function's body, offline: a fake huggingface_hub `snapshot_download` writes into a
temporary folder, and the function downloads each job's pinned revision into the cache folder
the plan gives, in huggingface_hub's layout, where the user's MDEPLOY_MODEL_<KEY> points."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

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
