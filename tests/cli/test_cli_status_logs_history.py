"""`mdeploy status`, `logs`, `history` and `rollback` through the real CLI: the exact Modal calls
they make (a fake `modal` records them and answers in the 1.6.4 CLI's --json shapes) and what
they make of the replies."""

from __future__ import annotations

import json

import pytest
from modal.types import ServerAutoscalerSettings

from engine.operate.tagging import content_hash
from tests.support import modal_replies as replies
from tests.support.fake_modal import FakeModal

CHAT = "manifests/chat.yaml"


@pytest.fixture
def modal(tmp_path):
    return FakeModal(tmp_path)


@pytest.fixture
def chat_hash():
    from engine.planner.plan import plan_file

    return content_hash(plan_file(CHAT, "prod"))


def _status_replies(modal: FakeModal, tag: str | None) -> None:
    modal.reply("app", "info", json_data=replies.app_info("chat", servers={"llama": "fu-1", "old-llama": "fu-9"}))
    modal.reply("app", "stats", json_data=replies.app_stats(servers={"llama": ("fu-1", 2, 1, 120, 3)}))
    modal.reply("app", "history", json_data=replies.history([(1, None), (2, None), (3, tag)]))
    modal.reply(
        "server",
        "info",
        "chat/llama",
        json_data=replies.server_info("chat", "llama", "fu-1", url="https://acme-prod--chat-llama.modal.run"),
    )


def test_status_reads_the_app_its_stats_history_and_urls(run_mdeploy, repo_root, modal, chat_hash):
    _status_replies(modal, f"1a2b3c4d5e6f-{chat_hash}")
    result = run_mdeploy("status", CHAT, "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert sorted(modal.calls()) == sorted(
        [
            ["app", "info", "chat", "--env", "prod", "--json"],
            ["app", "stats", "chat", "--env", "prod", "--json"],
            ["app", "history", "chat", "--env", "prod", "--json"],
            ["server", "info", "chat/llama", "--env", "prod", "--json"],
        ]
    )
    out = result.stdout
    assert out.startswith("app chat (environment prod): deployed, v3, deployed 2026-12-01T09:30:00+00:00 by ci-bot\n")
    assert "live tag 1a2b3c4d5e6f-" in out and "commit 1a2b3c4d5e6f, content = the manifest now" in out
    assert "  server llama: deployed\n    url         https://acme-prod--chat-llama.modal.run\n" in out
    assert "containers  2 (last hour: 2026-12-01T09:00:00+00:00 to 2026-12-01T10:00:00+00:00)" in out
    assert "errors      1 container errors, 3 of 120 requests failed" in out
    assert "  server old-llama: not in the manifest" in out


def test_status_json_says_when_the_live_content_differs(run_mdeploy, repo_root, modal):
    _status_replies(modal, "1a2b3c4d5e6f-000000000000")
    result = run_mdeploy("status", CHAT, "--env", "prod", "--format", "json", env=modal.env(repo_root))
    data = json.loads(result.stdout)
    assert (data["version"], data["content_matches"], data["commit"]) == (3, False, "1a2b3c4d5e6f")
    assert [(o["key"], o["state"]) for o in data["objects"]] == [
        ("llama", "deployed"),
        ("old-llama", "not in the manifest"),
    ]


def test_status_markdown_has_a_row_per_object_and_says_what_is_missing(run_mdeploy, repo_root, modal):
    _status_replies(modal, None)
    modal.reply("app", "info", json_data=replies.app_info("chat", servers={"old-llama": "fu-9"}))
    result = run_mdeploy("status", CHAT, "--env", "prod", "--format", "markdown", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert "| server `llama` | missing | https://acme-prod--chat-llama.modal.run | 2 |" in result.stdout
    assert "| server `old-llama` | not in the manifest | - | not reported | not reported |" in result.stdout
    assert "no tag, commit 1a2b3c4" in result.stdout  # Modal's own record of the commit


def test_status_of_an_app_that_is_not_deployed_is_one_line(run_mdeploy, repo_root, modal):
    modal.reply(
        "app",
        "info",
        stderr="╭─ Error ─────────────────────────────────────╮\n"
        "│ No App with name 'chat' found in the 'prod' environment. │\n"
        "╰─────────────────────────────────────────────╯\n",
        exit=1,
    )
    modal.reply("app", json_data={})
    modal.reply("server", json_data={})
    result = run_mdeploy("status", CHAT, "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 1
    assert result.stderr == (
        "error: `modal app info chat` failed: No App with name 'chat' found in the 'prod' environment.\n"
    )


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], ["app", "logs", "chat", "--env", "prod"]),
        (["llama", "-f"], ["server", "logs", "chat/llama", "--follow", "--env", "prod"]),
        (
            ["--since", "2h", "-n", "50", "--search", "OOM", "-s", "stderr", "--timestamps"],
            [
                "app",
                "logs",
                "chat",
                "--since",
                "2h",
                "--tail",
                "50",
                "--search",
                "OOM",
                "--source",
                "stderr",
                "--timestamps",
                "--env",
                "prod",
            ],
        ),
    ],
)
def test_logs_runs_modals_logs_for_the_app_or_one_object_with_its_filters(
    run_mdeploy, repo_root, modal, args, expected
):
    modal.reply("app", "logs", stdout="line one\n")
    modal.reply("server", "logs", stdout="engine started\n")
    result = run_mdeploy("logs", CHAT, "--env", "prod", *args, env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert modal.calls() == [expected]
    assert result.stdout in ("line one\n", "engine started\n")


def test_logs_of_a_function_uses_modal_function_logs(run_mdeploy, repo_root, modal):
    modal.reply("function", "logs", stdout="")
    result = run_mdeploy("logs", "manifests/pipeline.yaml", "discover", "--until", "1h", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert modal.calls() == [["function", "logs", "doc-pipeline/discover", "--until", "1h"]]  # its app name


def test_logs_of_an_unknown_object_names_the_known_ones(run_mdeploy, repo_root, modal):
    result = run_mdeploy("logs", CHAT, "--env", "prod", "lama", env=modal.env(repo_root))
    assert result.returncode == 1 and modal.calls() == []
    assert result.stderr == "error: 'lama' is not a service or function of app chat (known: llama)\n"


def test_history_decodes_mdeploys_tags_into_commits_and_content(run_mdeploy, repo_root, modal, chat_hash):
    modal.reply(
        "app",
        "history",
        json_data=replies.history(
            [(1, "release-1"), (2, "0123456789ab-dirty-ffffffffffff"), (3, f"1a2b3c4d5e6f-{chat_hash}")]
        ),
    )
    result = run_mdeploy("history", CHAT, "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert modal.calls() == [["app", "history", "chat", "--env", "prod", "--json"]]
    rows = result.stdout.splitlines()
    assert rows[0] == "app chat (environment prod): 3 deployments, newest first"
    assert rows[2].split() == [
        "*",
        "v3",
        "2026-12-04T09:00:00+00:00",
        "ci-bot",
        "1a2b3c4d5e6f",
        chat_hash,
        "=",
        "manifest",
        "now",
    ]
    assert rows[3].split() == ["v2", "2026-12-03T09:00:00+00:00", "ci-bot", "0123456789ab*", "ffffffffffff"]
    assert rows[4].split() == ["v1", "2026-12-02T09:00:00+00:00", "ci-bot", "1a2b3c4", "-", "release-1"]


def test_history_json_without_any_tags(run_mdeploy, repo_root, modal):
    modal.reply("app", "history", json_data=replies.history([(1, None), (2, None)], commit="abcdef1*"))
    result = run_mdeploy("history", CHAT, "--env", "prod", "--format", "json", env=modal.env(repo_root))
    data = json.loads(result.stdout)
    assert [(r["version"], r["live"], r["commit"], r["dirty"], r["content_hash"]) for r in data] == [
        (2, True, "abcdef1", True, None),
        (1, False, "abcdef1", True, None),
    ]


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], ["app", "rollback", "chat", "--env", "prod"]),
        (["4", "--strategy", "recreate"], ["app", "rollback", "chat", "v4", "--strategy", "recreate", "--env", "prod"]),
        (["v2"], ["app", "rollback", "chat", "v2", "--env", "prod"]),
    ],
)
def test_rollback_runs_modal_app_rollback(run_mdeploy, repo_root, modal, args, expected):
    modal.reply("app", "rollback", stdout="✓ Deployment rollback successful!\n")
    result = run_mdeploy("rollback", CHAT, "--env", "prod", *args, env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert modal.calls() == [expected]
    assert "rollback successful" in result.stdout


def test_rollback_to_a_version_that_is_not_one_says_what_to_give(run_mdeploy, repo_root, modal):
    result = run_mdeploy("rollback", CHAT, "--env", "prod", "latest", env=modal.env(repo_root))
    assert result.returncode == 1 and modal.calls() == []
    assert "is not a version: give a number from `mdeploy history`" in result.stderr


def test_a_failing_rollback_is_one_line_with_modals_exit_status(run_mdeploy, repo_root, modal):
    modal.reply("app", "rollback", stderr="Error: App 'chat' is not deployed in the 'prod' environment.\n", exit=1)
    result = run_mdeploy("rollback", CHAT, "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: `modal app rollback chat` failed: Error: App 'chat' is not deployed in the 'prod' environment."
    ]


def test_server_autoscaler_settings_type_is_the_one_modal_prints():
    # The reply builders use Modal's dataclasses; a renamed field would fail here first.
    assert "target_concurrency" in ServerAutoscalerSettings.__dataclass_fields__
