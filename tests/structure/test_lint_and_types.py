"""The lint, format and type checks docs/development.md shows (and .ci/run runs) pass."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _shown() -> list[list[str]]:
    text = (REPO / "docs" / "development.md").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if "ruff check" in line and line.startswith("    "))
    return [part.split() for part in re.split(r"\s*&&\s*", line.strip())]


def test_the_page_shows_the_checks_ci_runs():
    shown = [" ".join(c).replace(".venv/bin/", "") for c in _shown()]
    assert shown == ["ruff check .", "ruff format --check .", "mypy"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert ".venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy" in ci


@pytest.mark.parametrize("command", _shown(), ids=lambda c: " ".join(c[:2]).replace(".venv/bin/", ""))
def test_each_check_passes(command):
    tool = BIN / Path(command[0]).name
    done = subprocess.run([str(tool), *command[1:]], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
