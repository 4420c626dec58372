"""docs/engine-fields.md runs: each command it shows succeeds and says where the value came from."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "engine-fields.md").read_text(encoding="utf-8")
COMMANDS = [line.strip() for line in DOC.splitlines() if line.startswith("    mdeploy ")]


def test_the_page_shows_commands():
    assert len(COMMANDS) == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_names_the_fields_origin(run_mdeploy, command):
    result = run_mdeploy(*shlex.split(command)[1:])
    assert result.returncode == 0, result.stderr
    expected = {
        "servers.llama.context_length": "services.llama.engine_args.max_model_len at manifests/chat.yaml:",
        "servers.llama.max_sequences": "decided by the vllm engine (not set in any manifest file) (vllm's own default on A100)",
    }[shlex.split(command)[-1]]
    assert expected in result.stdout
