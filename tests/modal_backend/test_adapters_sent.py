"""LoRA adapters at the seam: what Modal's own client sends on `modal deploy engine/entry.py` for
manifests/lora.yaml (the fake control plane, tests/support/): the server's command, which the
container reads from MDEPLOY_BLUEPRINT, loads each adapter by name from the volume, and that
volume is mounted on the server."""

from __future__ import annotations

from pathlib import Path

from engine.blueprint.codec import ENV_VAR, decode_from_env
from tests.modal_backend.seam_sent import SentApp
from tests.support.modal_deploy import deploy, fake_modal

MANIFEST = Path("manifests/lora.yaml")
CACHE = "/root/.cache/huggingface"


def test_the_server_gets_the_lora_flags_and_the_adapters_volume():
    with fake_modal() as fake:
        sent = SentApp.from_calls(deploy(fake, MANIFEST, "main"))
    d = sent.functions["llama"].definition
    assert d.is_server
    mounts = {m.mount_path: sent.volumes[m.volume_id].deployment_name for m in d.volume_mounts}
    assert mounts[CACHE] == "lora-weights"  # the base model's cache, which holds the adapters' folders

    values = [env[ENV_VAR] for sid in sent.secrets if (env := sent.env_dict(sid)) and ENV_VAR in env]
    (server,) = decode_from_env(values[0]).servers
    command = list(server.command)
    assert "--enable-lora" in command
    at = command.index("--lora-modules")
    assert command[at + 1 : at + 3] == [f"sql={CACHE}/loras/sql", f"support={CACHE}/loras/support"]
    assert {"sql", "support"} <= set(server.served_names)

    prefetch = sent.functions["prefetch-models"].definition
    assert {sent.volumes[m.volume_id].deployment_name for m in prefetch.volume_mounts} == {"lora-weights"}
