"""How mdeploy calls Modal's CLI: the argv, a failure as one line, replies read in parallel."""

from __future__ import annotations

import sys

from engine.operate import modal_cli
from engine.operate.modal_cli import call, env_args, one_line
from tests.support.fake_modal import FakeModal


def test_a_call_is_the_same_interpreters_modal_with_the_words_given():
    history = call("app", "history", "chat", *env_args("prod"), "--json")
    assert history.argv == [sys.executable, "-m", "modal", "app", "history", "chat", "--env", "prod", "--json"]
    assert history.short == "modal app history chat"
    assert call("app", "rollback", "chat", None, *env_args(None)).args == ("app", "rollback", "chat")


def test_a_rich_error_panel_becomes_one_line():
    panel = (
        "╭─ Error ──────────────────────────────────╮\n"
        "│ No App with name 'chat' found in the     │\n"
        "│ 'prod' environment.                      │\n"
        "╰──────────────────────────────────────────╯\n"
    )
    assert one_line(panel) == "No App with name 'chat' found in the 'prod' environment."


def test_a_traceback_becomes_its_last_line():
    text = 'Traceback (most recent call last):\n  File "x.py", line 1\nmodal.exception.ConnectionError: no route\n'
    assert one_line(text) == "modal.exception.ConnectionError: no route"


def test_replies_keep_the_order_of_the_calls_and_failures_do_not_raise(tmp_path, repo_root, monkeypatch):
    fake = FakeModal(tmp_path)
    fake.reply("app", "info", json_data={"app_id": "ap-1"})
    fake.reply("app", "stats", stderr="Error: boom\n", exit=1)
    fake.reply("app", "history", stdout="not json")
    for key, value in fake.env(repo_root).items():
        monkeypatch.setenv(key, value)
    info, stats, history = modal_cli.read_all([call("app", "info"), call("app", "stats"), call("app", "history")])
    assert info.ok and info.data == {"app_id": "ap-1"}
    assert stats.error == "`modal app stats` failed: Error: boom"
    assert history.error == "`modal app history` printed no JSON: not json"
