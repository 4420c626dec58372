"""Every command that talks to a deployed app: without credentials one clear line and a non-zero
exit, before any Modal call; with --dry-run, the exact Modal commands and no call at all."""

from __future__ import annotations

import shlex
import sys

import pytest

from tests.support.fake_modal import FakeModal

CHAT = "manifests/chat.yaml"
PYTHON_MODAL = f"{shlex.quote(sys.executable)} -m modal"
COMMANDS = {
    "status": (
        [CHAT, "--env", "prod"],
        [
            "app info chat --env prod --json",
            "app stats chat --env prod --json",
            "app history chat --env prod --json",
            "server info chat/llama --env prod --json",
        ],
    ),
    "logs": (
        [CHAT, "llama", "--env", "prod", "--source", "stderr"],
        ["server logs chat/llama --source stderr --env prod"],
    ),
    "history": ([CHAT, "--env", "prod"], ["app history chat --env prod --json"]),
    "rollback": ([CHAT, "--env", "prod", "2"], ["app rollback chat v2 --env prod"]),
    "drift": (
        [CHAT, "--env", "prod"],
        [
            "app info chat --env prod --json",
            "app history chat --env prod --json",
            "server info chat/llama --env prod --json",
            "server autoscaler settings chat/llama --env prod --json",
        ],
    ),
    "cost": (
        [CHAT, "--env", "prod", "--actual"],
        [
            "billing rates --json",
            "billing report --start '7 days ago' --resolution d --show-resources --json",
        ],
    ),
}


@pytest.fixture
def offline(tmp_path, repo_root):
    """A fake `modal` that would record any call, and no Modal token anywhere."""
    fake = FakeModal(tmp_path)
    env = fake.env(repo_root, MODAL_TOKEN_ID="", MODAL_TOKEN_SECRET="")
    return fake, env


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_without_credentials_each_command_is_one_line_and_calls_nothing(run_mdeploy, offline, command):
    fake, env = offline
    args, _calls = COMMANDS[command]
    result = run_mdeploy(command, *args, env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: no Modal credentials")
    assert f"`mdeploy {command} --dry-run` works without them" in result.stderr
    assert fake.calls() == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_dry_run_prints_the_exact_modal_commands_and_runs_none(run_mdeploy, offline, command):
    fake, env = offline
    args, calls = COMMANDS[command]
    result = run_mdeploy(command, *args, "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "would run:"
    assert lines[1 : 1 + len(calls)] == [f"  {PYTHON_MODAL} {call}" for call in calls]
    assert fake.calls() == []


def test_an_overlay_named_instead_of_its_base_says_what_to_type(run_mdeploy, offline):
    _fake, env = offline
    result = run_mdeploy("status", "manifests/chat.prod.yaml", "--dry-run", env=env)
    assert result.returncode == 1
    assert "name the base: mdeploy status manifests/chat.yaml --env prod" in result.stderr


def test_the_operate_commands_never_import_modal_themselves(tmp_path, repo_root):
    """Modal runs in its own process (`python -m modal`); mdeploy's stays free of it."""
    import json
    import os
    import subprocess

    script = (
        "import json, sys\n"
        "from engine.cli.main import main\n"
        f"for argv in {json.dumps([[c, *a, '--dry-run'] for c, (a, _) in COMMANDS.items()])}:\n"
        "    assert main(argv) == 0, argv\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'modal' or m.startswith('modal.'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(repo_root), "MODAL_CONFIG_PATH": str(tmp_path / "none.toml")}
    done = subprocess.run([sys.executable, "-c", script], cwd=repo_root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
