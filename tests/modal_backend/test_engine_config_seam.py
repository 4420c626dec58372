"""engine_args.config at the seam: what Modal's client receives on `modal deploy` (the file's text
in the container's env, the flag naming it in the command the container reads from
MDEPLOY_BLUEPRINT), and what the container then does with it: the command writes the file before
the engine starts, and the engine is started with the flag pointing at it."""

from __future__ import annotations

import dataclasses
import socket
import sys
from pathlib import Path

import pytest
import yaml

from engine.blueprint.codec import ENV_VAR, decode_from_env
from engine.engines import sglang, trtllm
from engine.modal_backend.server_runtime import EngineLauncher
from tests.modal_backend.seam_sent import SentApp
from tests.support.modal_deploy import deploy, fake_modal

MANIFEST = Path("tests/modal_backend/data/seam/seam-engine-config.yaml")
FAKE_ENGINE = Path(__file__).resolve().parent / "fake_engine.py"


@pytest.fixture(scope="module")
def received():
    """(the container env Modal received, by variable, across the app's secrets; the Blueprint)."""
    with fake_modal() as fake:
        sent = SentApp.from_calls(deploy(fake, MANIFEST, "main"))
    env: dict[str, str] = {}
    for sid in sent.secrets:
        env.update(sent.env_dict(sid) or {})
    return env, decode_from_env(env[ENV_VAR])


def test_modal_receives_each_config_file_and_the_flag_naming_it(received):
    env, blueprint = received
    servers = {s.key: s for s in blueprint.servers}
    assert yaml.safe_load(env[sglang.CONFIG_ENV]) == {"chunked-prefill-size": 4096, "enable-torch-compile": True}
    sgl = servers["sgl"].command
    assert sgl[sgl.index("--config") + 1] == sglang.CONFIG_PATH
    assert yaml.safe_load(env[trtllm.CONFIG_ENV]) == {
        "quant_config": {"quant_algo": "FP8"},
        "enable_chunked_prefill": True,
        "kv_cache_config": {"free_gpu_memory_fraction": 0.85, "enable_block_reuse": True},
        "build_config": {"plugin_config": {"use_paged_context_fmha": True}},
    }
    trt = servers["trt"].command
    assert trt[trt.index("--extra_llm_api_options") + 1] == trtllm.CONFIG_PATH


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_container_writes_the_file_before_the_engine_starts(received, tmp_path, monkeypatch, capsys):
    env, blueprint = received
    spec = next(s for s in blueprint.servers if s.key == "sgl")
    # The received command as it is, with a stand-in engine after its write-then-exec prefix and
    # the file in the test's folder: what runs in the container up to the engine itself.
    target = tmp_path / "config.yaml"
    script = spec.command[2].replace(sglang.CONFIG_PATH, str(target))
    port = _free_port()
    stand_in = (sys.executable, str(FAKE_ENGINE), str(port), str(tmp_path / "log"), "--config", str(target))
    monkeypatch.setenv(sglang.CONFIG_ENV, env[sglang.CONFIG_ENV])
    launcher = EngineLauncher(
        dataclasses.replace(
            spec, command=("sh", "-c", script, "engine", *stand_in), port=port, warmup=None, startup_timeout=30
        )
    )
    try:
        launcher.start()
        assert target.read_text() == env[sglang.CONFIG_ENV]
    finally:
        launcher.stop()
    assert f"'--config', '{target}'" in capsys.readouterr().out  # the engine got the flag
