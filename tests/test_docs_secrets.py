"""docs/secrets.md runs: each command it shows succeeds and prints what the page says, and every
file it names exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "secrets.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    return [
        line.strip()
        for line in DOC.splitlines()
        if line.startswith("      mdeploy ") or line.startswith("    mdeploy ")
    ]


def test_the_page_shows_commands():
    assert len(_commands()) >= 2


@pytest.mark.parametrize("command", _commands())
def test_each_command_succeeds_without_printing_the_value(run_mdeploy, command):
    result = run_mdeploy(*shlex.split(command)[1:], env={"MDEPLOY_LOCAL_MODEL": "private/zq-private-path"})
    assert result.returncode == 0, result.stderr
    assert "${MDEPLOY_LOCAL_MODEL:-.mdeploy/models/tiny-chat}" in result.stdout
    assert "zq-private-path" not in result.stdout + result.stderr


def test_the_explain_answer_quoted_is_what_explain_prints(run_mdeploy):
    quoted = re.search(r"`(servers\.chat\.model \(Blueprint[^`]+)`", DOC).group(1)
    result = run_mdeploy("explain", "manifests/local-chat.yaml", "--env", "tiny", "servers.chat.model")
    assert quoted in result.stdout


def test_files_the_page_names_exist():
    paths = set(re.findall(r"`((?:engine|tests|schemas|manifests)/[\w./-]+)`", DOC))
    assert paths and sorted(p for p in paths if not (REPO / p).exists()) == []
