"""The keys only `app.server` has (exit_grace_period, http2, scaling.scaleup_window): bounded on
llm services, refused on functions and web services (`app.function` has none of them); a
function's routing_region is checked like a server's."""

from __future__ import annotations

import pytest

from engine.manifest.validate import validate_data
from tests.manifest.test_models_rules import base, only_problem, with_


def test_an_llm_service_takes_the_server_options():
    data = with_("services.chat.exit_grace_period", "25s")
    data = with_("services.chat.http2", True, data)
    data = with_("services.chat.scaling", {"scaleup_window": "30s"}, data)
    chat = validate_data(data).services["chat"]
    assert (chat.exit_grace_period, chat.http2, chat.scaling.scaleup_window) == (25, True, 30)


@pytest.mark.parametrize("value", ["2h", -1])
def test_exit_grace_period_is_bounded_by_what_app_server_accepts(value):
    key, message, _ = only_problem(with_("services.chat.exit_grace_period", value))
    assert key == "services.chat.exit_grace_period"


def test_a_zero_exit_grace_period_is_allowed():
    assert validate_data(with_("services.chat.exit_grace_period", 0)).services["chat"].exit_grace_period == 0


@pytest.mark.parametrize("value", ["0s", "61m"])
def test_scaleup_window_is_at_least_a_second_and_at_most_an_hour(value):
    key, _, _ = only_problem(with_("services.chat.scaling", {"scaleup_window": value}))
    assert key == "services.chat.scaling.scaleup_window"


@pytest.mark.parametrize(
    "path,value",
    [
        ("functions.ingest.exit_grace_period", "20s"),
        ("services.api.exit_grace_period", "20s"),
        ("functions.ingest.http2", True),
        ("services.api.http2", True),
        ("functions.ingest.scaling", {"scaleup_window": "30s"}),
        ("services.api.scaling", {"scaleup_window": "30s"}),
    ],
)
def test_a_server_only_option_on_a_function_or_web_service_is_refused(path, value):
    key, message, hint = only_problem(with_(path, value))
    assert key == (f"{path}.scaleup_window" if isinstance(value, dict) else path)
    assert "only llm services take" in message and "app.function has no such parameter" in message
    assert hint.startswith("remove it")


def test_a_function_routing_region_is_accepted_and_checked():
    assert (
        validate_data(with_("functions.ingest.routing_region", "eu-west")).functions["ingest"].routing_region
        == "eu-west"
    )
    key, message, hint = only_problem(with_("functions.ingest.routing_region", "eu-wst"))
    assert (key, message) == ("functions.ingest.routing_region", "is not a routing region Modal has")
    assert "eu-west" in hint


def test_the_refusal_is_located_at_the_key(run_mdeploy, tmp_path):
    (tmp_path / "jobs.py").write_text("def run():\n    return 1\n", encoding="utf-8")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(
        "version: 1\napp: demo\nfunctions:\n  job:\n    handler: jobs:run\n    exit_grace_period: 20s\n",
        encoding="utf-8",
    )
    result = run_mdeploy("validate", str(manifest))
    assert result.returncode == 1
    assert "app.yaml:6:24: functions.job.exit_grace_period: only llm services take exit_grace_period" in result.stdout
    assert "Traceback" not in result.stderr


def test_the_base_manifest_of_these_tests_is_valid():
    validate_data(base())
