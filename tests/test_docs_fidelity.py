"""docs/fidelity.md runs: each command it shows is run here, or names the test that runs it."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "fidelity.md").read_text(encoding="utf-8")

# Commands that are the seam test's own subject, or the seam test itself: the suite runs them.
RUN_BY_THE_SUITE = {
    "MDEPLOY_MANIFEST=manifests/chat.yaml modal deploy engine/entry.py --env prod": "tests/modal_backend/test_deploy_seam.py",
    "python -m pytest -q tests/modal_backend/test_deploy_seam.py": "tests/modal_backend/test_deploy_seam.py",
}


def _commands() -> list[str]:
    return [line.strip() for line in DOC.splitlines() if line.startswith("    ") and line.strip()]


def test_the_page_shows_commands():
    assert _commands()


@pytest.mark.parametrize("command", [c for c in _commands() if c in RUN_BY_THE_SUITE])
def test_commands_run_elsewhere_name_a_test_that_exists(command):
    test_file = REPO / RUN_BY_THE_SUITE[command]
    assert test_file.is_file()
    # The seam test deploys through `modal deploy engine/entry.py` with MDEPLOY_MANIFEST and --env.
    source = test_file.read_text() + (REPO / "tests" / "support" / "modal_deploy.py").read_text()
    assert all(part in source for part in ("MDEPLOY_MANIFEST", '"deploy"', '"--env"'))


@pytest.mark.parametrize("command", [c for c in _commands() if c not in RUN_BY_THE_SUITE])
def test_mdeploy_commands_succeed(run_mdeploy, command):
    argv = shlex.split(command)
    assert argv[0] == "mdeploy", f"a command the docs test does not know how to run: {command}"
    result = run_mdeploy(*argv[1:])
    assert result.returncode == 0, result.stderr
    if argv[1] == "plan" and "pipeline" in command:
        assert "(credentials: secret aws)" in result.stdout
