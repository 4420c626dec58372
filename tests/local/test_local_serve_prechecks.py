"""`mdeploy serve` checks the model before it starts an engine, through the real CLI.

A model folder that is missing or lacks config.json, and a Hub model on a machine that cannot
reach the Hub, are one line each, said before any engine starts (today's engines say it after
importing torch, in their own words, or after minutes of retries). "Offline" is made
deterministic with HF_ENDPOINT on a closed local port: no network is needed, and the refusal is
immediate.
"""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

import pytest

from engine.blueprint.codec import to_json

REPO = Path(__file__).resolve().parents[2]
QWEN = "Qwen/Qwen2.5-0.5B-Instruct"
QWEN_REVISION = "7ae557604adf67be50417f59c2c2f167def9a775"  # manifests/local-chat.yaml
TINY = ".mdeploy/models/tiny-chat"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def project(tmp_path) -> Path:
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    return tmp_path


def _offline_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}", "HF_HUB_OFFLINE": "", "HF_HOME": str(tmp_path / "hf")}
    return {**env, **extra}


def _one_error(done) -> str:
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "starting" not in done.stderr, "the check must come before the engine starts"
    return done.stderr.strip().splitlines()[-1]


def test_a_missing_model_folder_names_it_and_the_command_that_writes_the_tiny_model(project, run_mdeploy):
    done = run_mdeploy(
        "serve", "manifests/local-chat.yaml", "--env", "tiny", cwd=project, env={"MDEPLOY_LOCAL_MODEL": ""}
    )
    line = _one_error(done)
    assert line.startswith(f"error: model folder {TINY} does not exist: put a model saved with save_pretrained there, ")
    assert line.endswith(f" -m engine.local.tiny_model {TINY}")


def test_the_folder_is_found_at_the_project_root_from_any_folder(project, run_mdeploy):
    (project / "manifests" / "sub").mkdir()
    done = run_mdeploy(
        "serve",
        "../local-chat.yaml",
        "--env",
        "tiny",
        cwd=project / "manifests" / "sub",
        env={"MDEPLOY_LOCAL_MODEL": ""},
    )
    line = _one_error(done)
    assert f"error: model folder {project / TINY} does not exist" in line


def test_a_folder_without_config_json_is_one_line(project, run_mdeploy):
    (project / TINY).mkdir(parents=True)
    (project / TINY / "tokenizer.json").write_text("{}")
    done = run_mdeploy(
        "serve", "manifests/local-chat.yaml", "--env", "tiny", cwd=project, env={"MDEPLOY_LOCAL_MODEL": ""}
    )
    assert _one_error(done).startswith(f"error: model folder {TINY} has no config.json: ")


def test_the_command_it_names_writes_a_model_serve_then_accepts(project, run_mdeploy):
    """The fix the message names works: afterwards the check passes (the engine then starts)."""
    import subprocess

    done = run_mdeploy(
        "serve", "manifests/local-chat.yaml", "--env", "tiny", cwd=project, env={"MDEPLOY_LOCAL_MODEL": ""}
    )
    command = _one_error(done).rsplit(": ", 1)[1].split()
    assert command[0] == sys.executable and command[1:3] == ["-m", "engine.local.tiny_model"]
    written = subprocess.run(
        command, cwd=project, env={"PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=300
    )
    assert written.returncode == 0, written.stderr
    assert (project / TINY / "config.json").is_file()


def test_a_hub_model_with_the_hub_unreachable_is_one_line(project, run_mdeploy, tmp_path):
    done = run_mdeploy("serve", "manifests/local-chat.yaml", cwd=project, env=_offline_env(tmp_path))
    line = _one_error(done)
    assert line.startswith(
        f"error: {QWEN} (revision {QWEN_REVISION[:12]}) must come from the Hugging Face Hub and is not in the local cache "
    )
    assert "is not reachable (Connection refused): connect to the network, or serve a model folder (model.path)" in line


def test_a_hub_model_with_hf_hub_offline_is_one_line(project, run_mdeploy, tmp_path):
    done = run_mdeploy(
        "serve", "manifests/local-chat.yaml", cwd=project, env=_offline_env(tmp_path, HF_HUB_OFFLINE="1")
    )
    assert _one_error(done).endswith(
        ", and HF_HUB_OFFLINE is set: unset it to download the model, or serve a model folder (model.path)"
    )


def test_a_cached_hub_model_is_served_offline_when_the_hub_is_unreachable(bp, tmp_path, run_mdeploy):
    """The engine gets HF_HUB_OFFLINE=1 (huggingface_hub would otherwise retry the Hub for minutes)."""
    revision = "b" * 40
    snapshot = tmp_path / "hf" / "hub" / "models--org--model" / "snapshots" / revision
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    # A stand-in engine that says what it was given, then stops.
    engine = (
        sys.executable,
        "-c",
        "import os; print('offline=' + os.environ.get('HF_HUB_OFFLINE', '')); raise SystemExit(3)",
    )
    # The pinned revision is the server's field, as the planner sets it (the command is a stand-in).
    server = bp.server(engine="vllm", model="org/model", revision=revision, command=(*engine, "org/model"))
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(servers=[server])))
    done = run_mdeploy("serve", str(path), cwd=tmp_path, env=_offline_env(tmp_path))
    assert done.returncode == 1, done.stderr
    assert "mdeploy: the Hub is not reachable: serving org/model from the local cache (HF_HUB_OFFLINE=1)" in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "error: the engine exited with code 3 during start-up; its last log line: offline=1"
    )


def test_a_stand_in_engine_that_names_no_model_is_not_checked(bp, tmp_path, run_mdeploy):
    engine = (sys.executable, "-c", "raise SystemExit('started')")
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(servers=[bp.server(model="/no/such/model", command=engine)])))
    done = run_mdeploy("serve", str(path), cwd=tmp_path)
    assert done.stderr.strip().splitlines()[-1].endswith("its last log line: started")


def test_a_named_env_file_that_does_not_exist_is_one_line_before_any_engine(project, run_mdeploy):
    done = run_mdeploy(
        "serve",
        "manifests/local-chat.yaml",
        "--env",
        "tiny",
        "--env-file",
        "prod.env",
        cwd=project,
        env=_offline_env(project),
    )
    assert _one_error(done) == (
        "error: --env-file prod.env: does not exist; name a file of KEY=value lines, or leave the option out for .env"
    )


def test_a_blueprint_file_with_another_env_is_refused_not_served_as_planned(bp, tmp_path, run_mdeploy):
    """A Blueprint is one environment's plan: `--env prod` on one planned for main would serve
    main's plan under prod's name. The same Blueprint with its own environment (or no --env) serves."""
    engine = (sys.executable, "-c", "raise SystemExit('started')")
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(servers=[bp.server(model="/no/such/model", command=engine)])))
    for command in ("serve", "run"):
        argv = (command, str(path), *(("nothing",) if command == "run" else ()), "--env", "prod")
        done = run_mdeploy(*argv, cwd=tmp_path)
        assert _one_error(done) == (
            f"error: {path} is a Blueprint planned for environment 'main'; --env prod cannot re-plan it: "
            "plan the manifest with --env prod, or leave --env out"
        ), command
    done = run_mdeploy("serve", str(path), "--env", "main", cwd=tmp_path)
    assert done.stderr.strip().splitlines()[-1].endswith("its last log line: started")
