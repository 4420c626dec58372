"""`mdeploy --version`, and a reader that closes the pipe early, through the real CLI.

A closed pipe is not an error of mdeploy's: the command ends quietly, with 141 (128 + SIGPIPE),
the status a shell reports for any Unix tool whose reader went away (`seq 1000000 | head -1`),
so `set -o pipefail` scripts see what they see for the rest of their pipeline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MODAL_ENVIRONMENT", None)
    return env


def _expected_version() -> str:
    try:
        return version("mdeploy")
    except PackageNotFoundError:
        return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]


def test_version_prints_the_package_version(run_mdeploy):
    done = run_mdeploy("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"mdeploy {_expected_version()}\n"


def test_version_imports_neither_modal_nor_the_engines():
    probe = (
        "import json, sys\nfrom engine.cli.main import main\n"
        "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60
    )
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    heavy = [m for m in modules if m.split(".")[0] in ("modal", "torch", "pydantic") or m.startswith("engine.engines")]
    assert heavy == []


# Commands that print to stdout offline, one of each kind of output.
PRINTING = [
    ["validate", "manifests/", "--all-envs"],
    ["plan", "manifests/chat.yaml", "--env", "prod"],
    ["plan", "manifests/pipeline.yaml", "--format", "json"],
    ["schema"],
    ["explain", "manifests/chat.yaml", "--env", "prod", "services.llama.gpu"],
    ["eject", "manifests/chat.yaml", "--env", "prod"],
    ["diff", "manifests/chat.yaml", "--against-env", "prod"],  # main (Modal's default) against prod
    ["--version"],
    ["--help"],
    ["plan", "--help"],
]


@pytest.mark.parametrize("argv", PRINTING, ids=" ".join)
@pytest.mark.parametrize("buffering", ["buffered", "unbuffered"])
def test_a_pipe_closed_before_the_first_line_ends_the_command_quietly(argv, buffering):
    env = {**_env(), "PYTHONUNBUFFERED": "1" if buffering == "unbuffered" else ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", *argv],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before mdeploy writes anything: every write fails
    _, stderr = proc.communicate(timeout=120)
    assert stderr.decode() == ""
    assert proc.returncode == 141


def test_head_in_a_shell_pipeline_gets_its_line_and_nothing_else_is_said():
    script = f"set -o pipefail; {sys.executable} -m engine validate manifests/ --all-envs | head -1"
    done = subprocess.run(["bash", "-c", script], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("ok manifests/")
    assert len(done.stdout.splitlines()) == 1
    assert done.stderr == ""
    # 0 when mdeploy had written everything before head left, 141 when it had not: both quiet.
    assert done.returncode in (0, 141)
