"""A model a function uses reaches Modal as its container's cache volume mount and path
variable, and the prefetch function is deployed with the same volume: checked on what Modal's
client sends for manifests/transcribe.yaml (through the fake control plane)."""

from __future__ import annotations

from pathlib import Path

from tests.modal_backend.seam_sent import SentApp
from tests.support.modal_deploy import deploy, fake_modal

MANIFEST = Path("manifests/transcribe.yaml")
FOLDER = "/models/weights/hub/models--openai--whisper-large-v3/snapshots/afda370583db9c5359511ed5d989400a6199dfe1"


def _env(sent: SentApp, definition) -> dict[str, str]:
    env: dict[str, str] = {}
    for secret_id in definition.secret_ids:
        env.update(sent.env_dict(secret_id) or {})
    return env


def _volumes(sent: SentApp, definition) -> dict[str, str]:
    return {m.mount_path: sent.volumes[m.volume_id].deployment_name for m in definition.volume_mounts}


def test_the_function_and_the_prefetch_function_get_the_cache_volume_and_the_path():
    with fake_modal() as fake:
        sent = SentApp.from_calls(deploy(fake, MANIFEST, "main"))
    transcribe = sent.functions["transcribe"].definition
    assert _volumes(sent, transcribe) == {"/models/weights": "transcribe-weights"}
    assert _env(sent, transcribe)["MDEPLOY_MODEL_WHISPER"] == FOLDER

    prefetch = sent.functions["prefetch-models"].definition
    assert prefetch.implementation_name == "prefetch_models"
    assert _volumes(sent, prefetch) == {"/models/weights": "transcribe-weights"}
    assert '"cache_dir":"/models/weights/hub"' in _env(sent, prefetch)["MDEPLOY_PREFETCH"]
    assert prefetch.autoscaler_settings.max_containers == 1
