"""Smoke-check rules, against local HTTP servers: what is sent, what counts as passing, and that
nothing printed carries a header value."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from engine.operate.names import ModalObject
from engine.operate.smoke import check, check_all
from tests.support.fake_http import FakeEndpoint

LLM = ModalObject("server", "llama", "llama", "chat", web="llm", health_path="/health", served_model_name="llm")
GUARDED = ModalObject(
    "server",
    "qwen",
    "qwen",
    "q",
    web="llm",
    health_path="/health",
    requires_proxy_auth=True,
    served_model_name="qwen",
    api_key_env="LLM_API_KEY",
)
WEB = ModalObject("function", "api", "api", "notes", web="asgi_app")
TOKEN = {
    "MDEPLOY_PROXY_TOKEN_ID": "wk-id",
    "MDEPLOY_PROXY_TOKEN_SECRET": "ws-very-secret",
    "LLM_API_KEY": "sk-key-value",
}


def test_an_llm_server_gets_its_health_path_then_one_token_of_chat():
    with FakeEndpoint("llm") as server:
        result = check(LLM, server.url, {})
    assert result.ok
    assert [(s.request, s.status) for s in result.steps] == [("GET /health", 200), ("POST /v1/chat/completions", 200)]
    assert (
        server.requests[1]["body"]
        == b'{"model": "llm", "messages": [{"role": "user", "content": "Reply with OK."}], "max_tokens": 1}'
    )


def test_proxy_auth_and_api_key_headers_come_from_the_environment_and_are_never_printed():
    required = {"Modal-Key": "wk-id", "Modal-Secret": "ws-very-secret", "Authorization": "Bearer sk-key-value"}
    with FakeEndpoint("llm", require=required) as server:
        result = check(GUARDED, server.url, TOKEN)
    assert result.ok, result.describe()
    assert all(server.requests[i]["headers"].get("Modal-Secret") == "ws-very-secret" for i in (0, 1))
    assert not any(value in result.describe() for value in TOKEN.values())


def test_a_wrong_proxy_token_fails_at_the_health_check_and_sends_no_chat():
    with FakeEndpoint("llm", require={"Modal-Key": "other"}) as server:
        result = check(GUARDED, server.url, TOKEN)
    assert not result.ok and [s.status for s in result.steps] == [401]
    assert len(server.requests) == 1


def test_proxy_auth_without_a_token_sends_nothing_and_names_the_variables():
    result = check(GUARDED, "http://127.0.0.1:9", {})
    assert not result.ok and result.steps == ()
    assert "set MDEPLOY_PROXY_TOKEN_ID and MDEPLOY_PROXY_TOKEN_SECRET" in result.describe()


@pytest.mark.parametrize("behaviour,ok", [("web", True), ("broken", False)])
def test_a_web_endpoint_gets_one_get_of_its_root(behaviour, ok):
    with FakeEndpoint(behaviour) as app:
        result = check(WEB, app.url + "/", {})
    assert result.ok is ok
    assert [(r["method"], r["path"]) for r in app.requests] == [("GET", "/")]


def test_a_web_app_without_a_root_route_still_proves_it_is_served():
    with FakeEndpoint("llm") as app:  # answers 404 at /
        result = check(WEB, app.url, {})
    assert result.ok and result.steps[0].status == 404


def test_a_refused_web_request_is_a_failure():
    with FakeEndpoint("web", require={"Modal-Key": "k"}) as app:
        result = check(WEB, app.url, {})
    assert not result.ok and "refused" in result.describe()


def test_nothing_listening_is_a_failure_with_no_status():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = check(WEB, f"http://127.0.0.1:{port}", {})
    assert not result.ok and result.steps[0].status is None
    assert "no answer" in result.describe()


def test_an_object_without_a_url_fails_without_a_request():
    assert check(LLM, None, {}).describe() == "server llama: FAILED: Modal reported no URL for chat/llama"


def test_checks_run_together_and_keep_their_order():
    with FakeEndpoint("llm") as good, FakeEndpoint("broken") as bad:
        results = check_all([(LLM, bad.url, 0), (WEB, good.url, 0)], {})
    assert [(r.obj.key, r.ok) for r in results] == [("llama", False), ("api", True)]


def test_a_kind_server_gets_its_health_path_only():
    from engine.blueprint.model import Blueprint, ContainerSpec, ServerSpec
    from engine.operate.names import modal_names

    spec = ServerSpec(
        key="embed",
        symbol="Embed",
        name="embed",
        engine="",
        model="",
        served_model_name="",
        container=ContainerSpec(image="i"),
        command=("srv",),
        kind="server",
    )
    obj = modal_names(Blueprint(app="e", environment="main", source="e.yaml", servers=(spec,)), None).objects[0]
    assert (obj.web, obj.health_path, obj.served_model_name) == ("server", "/health", None)
    with FakeEndpoint("llm") as server:
        result = check(obj, server.url, {})
    assert result.ok and [(s.request, s.status) for s in result.steps] == [("GET /health", 200)]
    with FakeEndpoint("web") as server:  # /health answers 404 here
        assert not check(obj, server.url, {}).ok
        lenient = check(dataclasses.replace(obj, ready_on_any_answer=True), server.url, {})
    assert lenient.ok
