"""The warm-up shared by the server container and `mdeploy serve` (engine/runtime/warmup.py),
against a real local HTTP server (tests/support/fake_http.py): how many requests, which method
and body, the status each must answer, and whether a failure fails the start."""

from __future__ import annotations

import json

import pytest

from engine.blueprint.model import WarmupSpec
from engine.modal_backend.server_runtime import ServerStartError
from engine.modal_backend.server_runtime import warm_up as container_warm_up
from engine.runtime.warmup import WarmupFailed, warm_up
from tests.support.fake_http import FakeEndpoint


def _run(endpoint: FakeEndpoint, spec: WarmupSpec) -> tuple[int, list[str]]:
    lines: list[str] = []
    good = warm_up(endpoint.url, spec, timeout_s=10, log=lines.append)
    return good, lines


def test_count_method_and_body_are_sent_as_planned():
    spec = WarmupSpec(path="/v1/chat/completions", body=json.dumps({"model": "m"}), requests=3, status=200)
    with FakeEndpoint("llm") as endpoint:
        good, lines = _run(endpoint, spec)
    assert good == 3
    assert [(r["method"], r["path"], json.loads(r["body"])) for r in endpoint.requests] == [
        ("POST", "/v1/chat/completions", {"model": "m"})
    ] * 3
    assert endpoint.requests[0]["headers"]["Content-Type"] == "application/json"
    assert lines[-1] == "mdeploy: warm-up done: 3/3 × POST /v1/chat/completions as expected"


def test_a_get_without_body_sends_no_body():
    with FakeEndpoint("llm") as endpoint:
        good, _ = _run(endpoint, WarmupSpec(path="/health", body="", method="GET"))
    assert good == 1 and endpoint.requests == [
        {"method": "GET", "path": "/health", "headers": endpoint.requests[0]["headers"], "body": b""}
    ]


def test_an_unexpected_status_is_fatal_by_default_and_stops_at_the_first():
    spec = WarmupSpec(path="/health", body="", method="GET", requests=3, status=204)
    with FakeEndpoint("llm") as endpoint, pytest.raises(WarmupFailed) as failed:
        _run(endpoint, spec)
    assert len(endpoint.requests) == 1
    assert "warm-up request 1/3 GET " in str(failed.value) and "answered 200, not 204" in str(failed.value)


def test_without_a_status_any_2xx_passes_and_an_error_status_fails():
    with FakeEndpoint("broken") as endpoint, pytest.raises(WarmupFailed, match="answered 500, not a 2xx status"):
        _run(endpoint, WarmupSpec(path="/embed", body="{}"))


def test_a_non_fatal_warm_up_logs_each_failure_and_sends_them_all():
    spec = WarmupSpec(path="/embed", body="{}", requests=2, fatal=False)
    with FakeEndpoint("broken") as endpoint:
        good, lines = _run(endpoint, spec)
    assert good == 0 and len(endpoint.requests) == 2
    assert sum("warmup.fatal is false: serving anyway" in line for line in lines) == 2
    assert lines[-1].endswith("0/2 × POST /embed as expected")


def test_no_answer_at_all_is_a_failure_too():
    with FakeEndpoint("llm") as endpoint:
        url = endpoint.url
    with pytest.raises(WarmupFailed, match="failed: "):
        warm_up(url, WarmupSpec(path="/embed", body="{}"), timeout_s=2, log=lambda _: None)


def test_the_container_turns_a_fatal_failure_into_a_failed_start():
    with FakeEndpoint("broken") as endpoint, pytest.raises(ServerStartError, match="answered 500"):
        container_warm_up(endpoint.url, WarmupSpec(path="/embed", body="{}"), timeout_s=10)
