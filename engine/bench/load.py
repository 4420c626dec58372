"""The load generator: stream chat completions at a fixed concurrency and time every chunk.

Built on aiohttp, which mdeploy already has through `modal`'s own dependencies (no extra install
for `mdeploy bench`), and which reads a stream with less work per chunk than httpx's async
client: the generator's own cost per token must stay far below the server's (see
benchmarks/bench_overhead.py for the measured figures).

A level runs `concurrency` workers that each send requests back to back until `requests` have been
sent, so the server sees a steady `concurrency` streams in flight — a closed loop, the usual way
to draw latency against concurrency.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.bench.sse import DONE, parse_event_line, read_chunk
from engine.bench.stats import RequestResult


@dataclass(frozen=True)
class LoadSpec:
    base_url: str  # ends in /v1
    model: str
    prompt: str
    max_tokens: int
    api_key: str | None = None
    request_timeout: float = 300.0
    temperature: float = 0.0


def chat_request_body(spec: LoadSpec) -> dict:
    """The request every stream sends: the standard OpenAI fields only, so any compatible server takes it."""
    return {
        "model": spec.model,
        "messages": [{"role": "user", "content": spec.prompt}],
        "max_tokens": spec.max_tokens,
        "temperature": spec.temperature,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def request_headers(spec: LoadSpec) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if spec.api_key:
        headers["Authorization"] = f"Bearer {spec.api_key}"
    return headers


async def stream_one(session, spec: LoadSpec, body: bytes, headers: dict[str, str]) -> RequestResult:
    """Send one streaming request and record when each text chunk arrived."""
    import aiohttp

    clock = time.perf_counter
    start = clock()
    times: list[float] = []
    usage: dict | None = None
    error: str | None = None
    try:
        async with session.post(f"{spec.base_url}/chat/completions", data=body, headers=headers) as response:
            if response.status != 200:
                text = (await response.text())[:200].strip()
                return RequestResult(start=start, end=clock(), error=f"HTTP {response.status}: {text}")
            async for line in response.content:
                payload = parse_event_line(line)
                if payload is None:
                    continue
                if payload is DONE:
                    break
                chunk = read_chunk(payload)
                if chunk.has_text:
                    times.append(clock())
                if chunk.usage is not None:
                    usage = chunk.usage
                if chunk.error:
                    error = chunk.error
                    break
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    end = clock()
    return RequestResult(
        start=start,
        end=end,
        token_times=tuple(times),
        output_tokens=_int_or_none(usage, "completion_tokens"),
        prompt_tokens=_int_or_none(usage, "prompt_tokens"),
        error=error,
    )


async def run_level(
    spec: LoadSpec,
    concurrency: int,
    requests: int,
    on_result: Callable[[RequestResult], None] | None = None,
) -> tuple[list[RequestResult], float]:
    """Send `requests` streams with `concurrency` in flight; return the results and the wall time."""
    import aiohttp

    body = json.dumps(chat_request_body(spec)).encode()
    headers = request_headers(spec)
    results: list[RequestResult] = []
    remaining = iter(range(requests))
    timeout = aiohttp.ClientTimeout(total=spec.request_timeout)
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)

    async def worker(session) -> None:
        for _ in remaining:  # a shared iterator: each request index is taken by one worker only
            result = await stream_one(session, spec, body, headers)
            results.append(result)
            if on_result is not None:
                on_result(result)

    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(min(concurrency, requests))))
        wall = time.perf_counter() - began
    return results, wall


def _int_or_none(usage: dict | None, key: str) -> int | None:
    value = (usage or {}).get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
