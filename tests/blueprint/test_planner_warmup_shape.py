"""The warm-up shape an llm service shares with `kind: server`: left out, the engine's chat
request as before (only before a snapshot); given, each key as written, the rest defaulted."""

from __future__ import annotations

import json

from engine.blueprint.model import WarmupSpec
from engine.planner.plan import plan_file

LLM = """\
version: 1
app: w
services:
  chat:
    kind: llm
    engine: vllm
    gpu: L4
    model: {{id: org/m, revision: 5c38ec7c405ec4b44b94cc5a9bb96e735b38267a, served_name: m}}
    {warmup}
"""


def _warmup(tmp_path, text: str) -> WarmupSpec | None:
    path = tmp_path / "w.yaml"
    path.write_text(LLM.format(warmup=text), encoding="utf-8")
    return plan_file(path, None).servers[0].warmup


def test_true_is_still_one_chat_request_that_must_succeed(tmp_path):
    w = _warmup(tmp_path, "warmup: true")
    assert (w.path, w.method, w.requests, w.status, w.fatal) == ("/v1/chat/completions", "POST", 1, None, True)
    assert json.loads(w.body)["model"] == "m"


def test_left_out_there_is_none_without_a_snapshot(tmp_path):
    assert _warmup(tmp_path, "") is None


def test_another_path_without_a_body_is_a_get_and_each_key_is_taken(tmp_path):
    w = _warmup(tmp_path, "warmup: {path: /health, status: 200, requests: 3, fatal: false}")
    assert w == WarmupSpec(path="/health", body="", requests=3, method="GET", status=200, fatal=False)


def test_a_body_alone_keeps_the_chat_path_and_posts_it(tmp_path):
    w = _warmup(tmp_path, "warmup: {body: {model: m, messages: [{role: user, content: hi}], max_tokens: 1}}")
    assert (w.path, w.method) == ("/v1/chat/completions", "POST")
    assert json.loads(w.body) == {"max_tokens": 1, "messages": [{"content": "hi", "role": "user"}], "model": "m"}
