"""docs/validation.md's commands run: each `mdeploy ...` line it shows passes on the
shipped manifests, `--strict` included (they carry no warnings)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "validation.md").read_text(encoding="utf-8")
COMMANDS = sorted(
    {re.sub(r"\s+#\s.*$", "", line.strip()) for line in PAGE.splitlines() if line.startswith("    mdeploy ")}
)


def test_the_page_shows_commands():
    assert len(COMMANDS) >= 3


@pytest.mark.parametrize("command", COMMANDS)
def test_shown_command_passes_on_the_shipped_manifests(run_mdeploy, command):
    done = run_mdeploy(*shlex.split(command)[1:])
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].endswith(" 0 failed, 0 warnings")
