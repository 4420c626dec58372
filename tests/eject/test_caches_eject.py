"""Eject writes `caches:` as it takes effect: the renamed volume by its Modal name, the moved
mount at its path with the engine's variable, no volume for a cache turned off."""

from __future__ import annotations

from pathlib import Path

from engine.eject.render import render_app
from engine.planner.plan import plan_file

MANIFEST = """\
version: 1
app: caches-eject
services:
  chat:
    kind: llm
    engine: vllm
    gpu: H100
    model: {id: Qwen/Qwen2.5-0.5B-Instruct, revision: 7ae557604adf67be50417f59c2c2f167def9a775}
    caches:
      huggingface: {volume: team-hf}
      vllm: false
  sg:
    kind: llm
    engine: sglang
    gpu: H100
    model: {id: Qwen/Qwen2.5-0.5B-Instruct, revision: 7ae557604adf67be50417f59c2c2f167def9a775}
    caches:
      huggingface: {volume: team-hf}
      deepgemm: {path: /dg}
"""


def test_eject_writes_the_caches_as_planned(tmp_path: Path):
    manifest = tmp_path / "caches.yaml"
    manifest.write_text(MANIFEST)
    text = render_app(plan_file(manifest, None, {}))
    assert 'modal.Volume.from_name("team-hf"' in text
    assert "vllm-cache" not in text
    assert 'volumes={"/root/.cache/huggingface": hf_cache_vol}' in text
    assert '"/dg": deepgemm_cache_vol' in text
    assert '"SGLANG_DG_CACHE_DIR": "/dg"' in text
    assert "/root/.cache/deepgemm" not in text
