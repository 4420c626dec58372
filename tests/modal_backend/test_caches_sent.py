"""`caches:` reaches Modal as the server's volume mounts and env: a renamed cache is a volume of
that name, a moved one is mounted at its path with the engine's variable pointing there, one
turned off is no volume at all, and a volume of the user's at a cache path is the only volume
there. Checked on what Modal's client sends (through the fake control plane)."""

from __future__ import annotations

from pathlib import Path

from tests.modal_backend.seam_sent import SentApp
from tests.support.modal_deploy import deploy, fake_modal

MANIFEST = """\
version: 1
app: caches-sent
volumes:
  mine: {name: my-deepgemm}
services:
  chat:
    kind: llm
    engine: vllm
    gpu: H100
    model: {id: Qwen/Qwen2.5-0.5B-Instruct, revision: 7ae557604adf67be50417f59c2c2f167def9a775}
    caches:
      huggingface: {volume: team-hf}
      vllm: {path: /cache/vllm}
  sg:
    kind: llm
    engine: sglang
    gpu: H100
    model: {id: Qwen/Qwen2.5-0.5B-Instruct, revision: 7ae557604adf67be50417f59c2c2f167def9a775}
    volumes:
      /root/.cache/deepgemm: mine
    caches:
      huggingface: false
"""


def _env(sent: SentApp, definition) -> dict[str, str]:
    env: dict[str, str] = {}
    for secret_id in definition.secret_ids:
        env.update(sent.env_dict(secret_id) or {})
    return env


def _volumes(sent: SentApp, definition) -> dict[str, str]:
    return {m.mount_path: sent.volumes[m.volume_id].deployment_name for m in definition.volume_mounts}


def test_caches_reach_modal_as_volumes_at_their_paths_and_env(tmp_path: Path):
    manifest = tmp_path / "caches.yaml"
    manifest.write_text(MANIFEST)
    with fake_modal() as fake:
        sent = SentApp.from_calls(deploy(fake, manifest, "main"))
    chat = sent.functions["chat"].definition
    assert _volumes(sent, chat) == {"/root/.cache/huggingface": "team-hf", "/cache/vllm": "vllm-cache"}
    assert _env(sent, chat)["VLLM_CACHE_ROOT"] == "/cache/vllm"
    assert "HF_HOME" not in _env(sent, chat)

    sg = sent.functions["sg"].definition
    assert _volumes(sent, sg) == {"/root/.cache/deepgemm": "my-deepgemm"}
    assert _env(sent, sg)["SGLANG_DG_CACHE_DIR"] == "/root/.cache/deepgemm"
    assert {v.deployment_name for v in sent.volumes.values()} == {"team-hf", "vllm-cache", "my-deepgemm"}
