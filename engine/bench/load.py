"""The load generator: stream chat completions, closed or open loop, and time every token chunk.

Closed loop (`concurrency`): that many workers send requests back to back, so the server sees a
steady number of streams in flight — the usual way to draw latency against concurrency. Open
loop (`rate`): requests are sent at precomputed arrival times whatever the server's pace, as
traffic arrives in production; a server that falls behind then shows queueing in TTFT.

Sockets are served by engine/bench/reactor.py (why not asyncio and aiohttp: see there). Request
bodies are built before a level starts, so the CPU a level measures is the per-stream work.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from engine.bench.http import Endpoint, ResponseParser, request_bytes
from engine.bench.reactor import Reactor
from engine.bench.sse import StreamObserver
from engine.bench.stats import RequestResult, stream_failure
from engine.bench.workload import RequestPlan


@dataclass(frozen=True)
class LoadSpec:
    base_url: str  # ends in /v1
    model: str
    prompt: str = ""
    max_tokens: int = 128
    api_key: str | None = None
    request_timeout: float = 300.0
    temperature: float = 0.0
    ignore_eos: bool = False


def chat_request_body(spec: LoadSpec, plan: RequestPlan | None = None) -> dict[str, object]:
    """The request every stream sends: the standard OpenAI fields, plus `ignore_eos` only when asked.

    `ignore_eos` is vLLM's (and SGLang's) extension, passed at the top level of the body as
    `vllm bench serve --ignore-eos` passes it; servers that do not know it ignore or refuse it.
    """
    plan = plan or RequestPlan(spec.prompt, spec.max_tokens)
    body: dict[str, object] = {
        "model": spec.model,
        "messages": [{"role": "user", "content": plan.prompt}],
        "max_tokens": plan.max_tokens,
        "temperature": spec.temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if spec.ignore_eos:
        body["ignore_eos"] = True
    return body


def request_headers(spec: LoadSpec) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream", "User-Agent": "mdeploy-bench"}
    if spec.api_key:
        headers["Authorization"] = f"Bearer {spec.api_key}"
    return headers


class _Stream:
    """One request in flight: its observer, its timing, and what to do when it ends."""

    __slots__ = ("spec", "max_tokens", "scheduled", "observer", "start", "record")

    def __init__(
        self, spec: LoadSpec, max_tokens: int, scheduled: float | None, record: Callable[[RequestResult], None]
    ):
        self.spec = spec
        self.max_tokens = max_tokens
        self.scheduled = scheduled
        self.observer = StreamObserver()
        self.record = record
        self.start = time.perf_counter()

    def done(self, parser: ResponseParser, error: str | None) -> None:
        end = time.perf_counter()
        observer = self.observer
        status = parser.status  # 0 when no response head arrived
        if error is None and status != 200:
            text = parser.error_body.decode("utf-8", "replace").strip()[:200]
            error = f"HTTP {status}: {text}" if text else f"HTTP {status}"
        if error is not None and error.startswith("timed out"):
            error = f"{error} ({len(observer.token_times)} token chunks received)"
        if status == 200:
            observer.close(end)
        usage = observer.usage or {}
        output_tokens = _int_or_none(usage, "completion_tokens")
        chunks = len(observer.token_times)
        if error is None:
            error = observer.error or stream_failure(
                chunks=chunks,
                tokens=output_tokens if output_tokens is not None else chunks,
                saw_done=observer.saw_done,
                finish_reason=observer.finish_reason,
                max_tokens=self.max_tokens,
                ignore_eos=self.spec.ignore_eos,
                saw_usage=observer.usage is not None,
            )
        self.record(
            RequestResult(
                start=self.start,
                end=end,
                token_times=tuple(observer.token_times),
                output_tokens=output_tokens,
                prompt_tokens=_int_or_none(usage, "prompt_tokens"),
                error=error,
                max_tokens=self.max_tokens,
                finish_reason=observer.finish_reason,
                scheduled=self.scheduled,
            )
        )


@dataclass
class LevelRun:
    results: list[RequestResult]
    began: float  # perf_counter when the level started
    wall_seconds: float
    cpu_seconds: float  # process CPU time the level took (the generator's own cost)
    began_unix: float  # time.time() at `began`: ties the records to a server's own logs
    read_lags: list[float] = field(default_factory=list)  # see Reactor.read_lags


def run_level(
    spec: LoadSpec,
    plans: list[RequestPlan],
    *,
    concurrency: int | None = None,
    offsets: list[float] | None = None,
    on_result: Callable[[RequestResult], None] | None = None,
    results: list[RequestResult] | None = None,
) -> LevelRun:
    """Send one request per plan: `concurrency` in flight (closed loop), or each at its offset (open loop).

    `results` may be passed in so a caller interrupted mid-level (Ctrl-C) still holds what finished.
    """
    if (concurrency is None) == (offsets is None):
        raise ValueError("give either concurrency or offsets")
    endpoint = Endpoint.from_url(spec.base_url)
    headers = request_headers(spec)
    requests = [
        (
            request_bytes(
                endpoint, "POST", "/chat/completions", headers, json.dumps(chat_request_body(spec, plan)).encode()
            ),
            plan.max_tokens,
        )
        for plan in plans
    ]
    results = [] if results is None else results
    expected = len(results) + len(requests)
    reactor = Reactor(endpoint, spec.request_timeout)
    pending = iter(requests)

    def launch(request: bytes, max_tokens: int, scheduled: float | None = None) -> None:
        stream = _Stream(spec, max_tokens, scheduled, record)
        reactor.submit(request, stream.observer.feed, stream.done)

    def record(result: RequestResult) -> None:
        results.append(result)
        if on_result is not None:
            on_result(result)
        if offsets is None:
            for request, max_tokens in pending:  # closed loop: the next request takes the freed slot
                launch(request, max_tokens)
                break

    cpu_before = time.process_time()
    began = time.perf_counter()
    began_unix = time.time()
    try:
        if concurrency is not None:  # closed loop (then offsets is None)
            for _, (request, max_tokens) in list(zip(range(concurrency), pending)):
                launch(request, max_tokens)
        elif offsets is not None:
            for (request, max_tokens), offset in zip(requests, offsets):
                due = began + offset
                reactor.call_at(due, functools.partial(launch, request, max_tokens, due))
        reactor.run(lambda: len(results) >= expected)
    finally:
        reactor.close()
    wall = time.perf_counter() - began
    cpu = time.process_time() - cpu_before
    return LevelRun(
        results=results,
        began=began,
        wall_seconds=wall,
        cpu_seconds=cpu,
        read_lags=reactor.read_lags,
        began_unix=began_unix,
    )


def _int_or_none(usage: Mapping[str, object] | None, key: str) -> int | None:
    value = (usage or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
