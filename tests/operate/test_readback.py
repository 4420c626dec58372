"""Modal's --json replies, in the shapes its 1.6.4 CLI prints (built from its own dataclasses),
read into mdeploy's dataclasses; what a reply lacks stays None."""

from __future__ import annotations

from modal.types import ServerAutoscalerSettings

from engine.operate.readback import parse_app_info, parse_app_stats, parse_history, parse_object
from tests.support import modal_replies as replies


def test_app_info_gives_state_version_and_objects_by_modal_name():
    app = parse_app_info(replies.app_info("chat", servers={"llama": "fu-1"}, functions={"job": "fu-2"}, version=4))
    assert (app.state, app.version, app.deployed_by) == ("deployed", 4, "ci-bot")
    assert app.object_id("server", "llama") == "fu-1" and app.object_id("function", "job") == "fu-2"
    assert app.object_id("server", "job") is None


def test_a_servers_url_and_settings_come_from_server_info_and_its_autoscaler_reply():
    settings = ServerAutoscalerSettings(
        target_concurrency=16,
        min_containers=3,
        max_containers=9,
        buffer_containers=None,
        scaleup_window=None,
        scaledown_window=None,
    )
    info = replies.server_info("chat", "llama", "fu-1", url="https://u.modal.run")
    live = parse_object("server", "llama", info, replies.autoscaler_settings(settings, [("max_containers", "alice")]))
    assert live.url == "https://u.modal.run"
    assert (live.setting("min_containers"), live.setting("max_containers"), live.setting("buffer_containers")) == (
        3,
        9,
        None,
    )
    assert [(o.setting, o.actor) for o in live.overrides] == [("max_containers", "alice")]
    assert parse_object("server", "llama", info).setting("max_containers") == 8  # info alone carries them too


def test_a_web_functions_url_is_its_web_info_and_a_plain_function_has_none():
    assert (
        parse_object("function", "api", replies.function_info("a", "api", "fu-2", url="https://w")).url == "https://w"
    )
    assert parse_object("function", "job", replies.function_info("a", "job", "fu-3")).url is None


def test_history_is_newest_first_with_or_without_the_tag_column():
    rows = parse_history(replies.history([(1, None), (3, "t3"), (2, None)]))
    assert [(d.version, d.tag) for d in rows] == [(3, "t3"), (2, None), (1, None)]
    untagged = parse_history(replies.history([(1, None)]))
    assert untagged[0].tag is None and untagged[0].commit == "1a2b3c4"


def test_app_stats_are_read_per_object():
    since, until, stats = parse_app_stats(
        replies.app_stats(servers={"llama": ("fu-1", 2, 1, 120, 3)}, functions={"job": ("fu-2", 1, 0, 9, 0)})
    )
    assert since.startswith("2026-12-01T09")
    assert stats[("server", "llama")].containers == 2 and stats[("server", "llama")].failed == 3
    assert stats[("function", "job")].requests == 9


def test_a_reply_that_is_not_what_was_expected_reads_as_nothing_rather_than_failing():
    assert parse_app_info([]).functions == {} and parse_history({}) == [] and parse_app_stats(None)[2] == {}
