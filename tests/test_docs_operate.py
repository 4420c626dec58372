"""docs/operate.md runs: every `mdeploy` command it shows parses with the real CLI and runs with
--dry-run (no credentials, no Modal call), and its sample outputs are what the commands print
for the replies the CLI tests use."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from engine.cli.main import COMMANDS
from tests.support.fake_modal import FakeModal
from tests.test_readme import _parse

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "operate.md").read_text()
SAMPLE_HASH = "0f9e8d7c6b5a"


def _blocks() -> list[tuple[str, list[str]]]:
    """(kind, lines) of each code block: "indented" (commands) or "fenced" (sample output)."""
    blocks, fenced, current = [], None, []
    for line in DOC.splitlines():
        if line.strip().startswith("```"):
            if fenced is None:
                fenced, current = "fenced", []
            else:
                blocks.append((fenced, current))
                fenced = None
            continue
        if fenced:
            current.append(line)
        elif line.startswith("    ") and line.strip().startswith("mdeploy "):
            blocks.append(("indented", [line.strip()]))
    return blocks


def shown_commands() -> list[str]:
    lines = [line for kind, block in _blocks() if kind == "indented" for line in block]
    return sorted({re.sub(r"\s+#\s.*$", "", line) for line in lines})


def test_the_doc_shows_every_operate_command():
    shown = {shlex.split(c)[1] for c in shown_commands()}
    assert {"deploy", "status", "logs", "history", "rollback", "drift", "cost"} <= shown


@pytest.mark.parametrize("command", shown_commands())
def test_every_shown_command_parses_and_dry_runs(command, run_mdeploy, tmp_path):
    argv = shlex.split(command)[1:]
    assert argv[0] in COMMANDS
    _parse(argv)
    fake = FakeModal(tmp_path)
    result = run_mdeploy(*argv, "--dry-run", env=fake.env(REPO, MODAL_TOKEN_ID="", MODAL_TOKEN_SECRET=""))
    assert result.returncode == 0, result.stderr
    assert fake.calls() == []


def _sample(first_line: str) -> list[str]:
    return next(block for kind, block in _blocks() if kind == "fenced" and block and block[0].startswith(first_line))


def test_the_status_sample_is_what_status_prints(run_mdeploy, tmp_path):
    from engine.operate.tagging import content_hash
    from engine.planner.plan import plan_file
    from tests.cli.test_cli_status_logs_history import _status_replies

    fake = FakeModal(tmp_path)
    real_hash = content_hash(plan_file("manifests/chat.yaml", "prod"))
    _status_replies(fake, f"1a2b3c4d5e6f-{real_hash}")
    result = run_mdeploy("status", "manifests/chat.yaml", "--env", "prod", env=fake.env(REPO))
    printed = result.stdout.replace(real_hash, SAMPLE_HASH).splitlines()
    sample = _sample("app chat (environment prod): deployed")
    assert printed[: len(sample)] == sample


def test_the_history_sample_is_what_history_prints(run_mdeploy, tmp_path):
    from engine.operate.tagging import content_hash
    from engine.planner.plan import plan_file
    from tests.support import modal_replies as replies

    fake = FakeModal(tmp_path)
    real_hash = content_hash(plan_file("manifests/chat.yaml", "prod"))
    fake.reply(
        "app",
        "history",
        json_data=replies.history(
            [(1, "release-1"), (2, "0123456789ab-dirty-ffffffffffff"), (3, f"1a2b3c4d5e6f-{real_hash}")]
        ),
    )
    result = run_mdeploy("history", "manifests/chat.yaml", "--env", "prod", env=fake.env(REPO))
    assert result.stdout.replace(real_hash, SAMPLE_HASH).splitlines() == _sample(
        "app chat (environment prod): 3 deployments"
    )


def test_the_drift_sample_is_what_drift_prints(run_mdeploy, tmp_path):
    from tests.cli.test_cli_drift import _live_web

    fake = FakeModal(tmp_path)
    _live_web(fake, max_containers=40, overrides=[("max_containers", "alice")])
    result = run_mdeploy("drift", "manifests/web-api.yaml", "--env", "prod", env=fake.env(REPO))
    sample = _sample("~ notes-api")
    printed = result.stdout.splitlines()
    assert printed[:5] == sample[:5]
    assert printed[-1] == sample[-1]
