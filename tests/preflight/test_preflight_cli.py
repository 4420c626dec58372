"""`mdeploy preflight` end to end, offline: no Modal token and no network in tests.

The live probes find no credentials (MODAL_TOKEN_* cleared, config pointed at an empty file) and
the Hub is switched off with HF_HUB_OFFLINE, so no request leaves this machine.
"""

from __future__ import annotations

OFFLINE = {
    "MODAL_TOKEN_ID": "",
    "MODAL_TOKEN_SECRET": "",
    "MODAL_CONFIG_PATH": "/nonexistent/modal.toml",
    "HF_HUB_OFFLINE": "1",
}


def test_offline_preflight_skips_with_reasons_and_exits_zero(run_mdeploy):
    result = run_mdeploy("preflight", "manifests/chat.yaml", "--env", "prod", env=OFFLINE)
    assert result.returncode == 0, result.stderr
    skips = [line for line in result.stdout.splitlines() if line.strip().startswith("skip")]
    assert skips, result.stdout
    assert any("no Modal credentials" in line for line in skips)
    assert any("HF_HUB_OFFLINE" in line for line in skips)


def test_offline_preflight_with_strict_exits_three(run_mdeploy):
    result = run_mdeploy("preflight", "manifests/chat.yaml", "--env", "prod", "--strict", env=OFFLINE)
    assert result.returncode == 3, result.stdout + result.stderr


def test_offline_preflight_reads_a_local_model_folder(run_mdeploy, tmp_path):
    (tmp_path / "config.json").write_text('{"num_hidden_layers": 2, "num_attention_heads": 4, "hidden_size": 64}')
    env = {**OFFLINE, "MDEPLOY_LOCAL_MODEL": str(tmp_path)}
    result = run_mdeploy("preflight", "manifests/local-chat.yaml", "--env", "tiny", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    line = next(line for line in result.stdout.splitlines() if "model chat" in line)
    assert line.split()[0] == "ok" and f"{tmp_path} is a model folder with a config.json" in line
