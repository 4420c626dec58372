"""The metric math of a benchmark, pure: what makes a request good, percentiles, one level's summary.

Every timestamp is seconds on one monotonic clock (`time.perf_counter`). The definitions are
vLLM's (`vllm bench serve`); docs/bench.md cites the code each one follows:

- TTFT, time to first token: request sent -> first token chunk;
- ITL, inter-token latency: the gap between two consecutive token chunks of one stream, pooled
  over all requests of a level (one token per chunk, so it is the time per output token);
- TPOT, time per output token: (E2E - TTFT) / (output tokens - 1), one value per request;
- E2E, end-to-end latency: request sent -> last token chunk;
- output tokens: the server's `usage.completion_tokens`, else one per token chunk.

The rule of thumb P90 E2E ≈ P90 TTFT + P90 ITL × output tokens is reported with both sides, so a
reader sees when a server's tail behaves differently from its steady decode (queueing, batching
hiccups), which is what the check is for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import fmean, median
from typing import TypedDict

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class RequestResult:
    """What one streamed request measured. `token_times` are the arrival times of token chunks."""

    start: float
    end: float
    token_times: tuple[float, ...] = ()
    output_tokens: int | None = None  # from the server's usage data, when it sent any
    prompt_tokens: int | None = None
    error: str | None = None
    max_tokens: int | None = None
    finish_reason: str | None = None
    scheduled: float | None = None  # open loop: when the request was due to be sent

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.token_times)

    @property
    def tokens(self) -> int:
        """Output tokens: the server's count where given, else one per token chunk."""
        return self.output_tokens if self.output_tokens is not None else len(self.token_times)

    @property
    def ttft(self) -> float:
        return self.token_times[0] - self.start

    @property
    def e2e(self) -> float:
        return self.token_times[-1] - self.start

    @property
    def tpot(self) -> float | None:
        return (self.e2e - self.ttft) / (self.tokens - 1) if self.tokens > 1 else None


def stream_failure(
    *,
    chunks: int,
    tokens: int,
    saw_done: bool,
    finish_reason: str | None,
    max_tokens: int,
    ignore_eos: bool,
    saw_usage: bool = False,
) -> str | None:
    """Why a stream that answered 200 still failed, or None when it delivered what was asked.

    A stream counts only when it ended the way a finished completion ends: a finish reason, and
    the end marker `[DONE]`; and, when the request told the server to ignore end-of-sequence,
    with every token asked for. Anything else is a truncated or broken answer, which must not
    pass as a fast one. One allowance: transformers serve (5.x) never sends `[DONE]`; it ends
    with the usage counts asked for by `stream_options.include_usage`, which only a finished
    stream can report, so a stream with a finish reason and usage ends properly without it.
    """
    if chunks == 0:
        return "stream ended without any token"
    if not saw_done and not (saw_usage and finish_reason is not None):
        return f"stream ended without [DONE] after {chunks} token chunks"
    if finish_reason is None:
        return "stream ended without a finish_reason"
    if ignore_eos and tokens < max_tokens:
        return f"stream ended after {tokens} of {max_tokens} tokens with ignore_eos set (finish_reason {finish_reason})"
    return None


def percentile(values: list[float] | tuple[float, ...], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def inter_token_latencies(token_times: tuple[float, ...] | list[float]) -> list[float]:
    """Gaps between consecutive token chunks of one stream (empty for fewer than two chunks)."""
    return [later - earlier for earlier, later in zip(token_times, token_times[1:])]


def distribution(values: list[float]) -> dict[str, float] | None:
    """Mean, min, max and the reported percentiles, or None when nothing was measured."""
    if not values:
        return None
    summary = {"mean": fmean(values), "min": min(values), "max": max(values)}
    summary.update({f"p{q}": percentile(values, q) for q in PERCENTILES})
    return summary


class Goodput(TypedDict):
    """A level's goodput: the requests that met every target, as a count, a share and a rate."""

    targets: dict[str, float]  # metric -> seconds
    good_requests: int
    share: float
    requests_per_second: float


@dataclass(frozen=True)
class LevelSummary:
    """One level, ready for the report (all latencies in seconds)."""

    concurrency: int | None
    requests: int
    succeeded: int
    failed: int
    wall_seconds: float
    requests_per_second: float
    output_tokens_per_second: float
    output_tokens_median: float | None
    ttft: dict[str, float] | None
    itl: dict[str, float] | None
    tpot: dict[str, float] | None
    e2e: dict[str, float] | None
    rule_of_thumb: dict[str, float] | None
    errors: dict[str, int] = field(default_factory=dict)  # reason -> how many requests failed so
    rate: float | None = None  # requests/s asked for, open loop
    arrivals: str | None = None
    goodput: Goodput | None = None
    client_cpu_seconds: float | None = None
    client_cpu_us_per_token: float | None = None
    # How far the timestamps can be trusted: the share of ITL gaps between two chunks one read
    # brought (they share its time, so the gap reads 0), and how long bytes waited in the kernel
    # before the client read them (None where the kernel does not stamp reads, e.g. TLS).
    same_read_gaps: float | None = None
    client_read_lag: dict[str, float] | None = None
    interrupted: bool = False


def rule_of_thumb(
    ttft: dict[str, float] | None, itl: dict[str, float] | None, e2e: dict[str, float] | None, tokens: float | None
) -> dict[str, float] | None:
    """P90 E2E against P90 TTFT + P90 ITL × (median output tokens − 1), and their ratio.

    The first token is covered by TTFT, so the decode part spans one token fewer than the output.
    """
    if not (ttft and itl and e2e and tokens):
        return None
    predicted = ttft["p90"] + itl["p90"] * max(tokens - 1, 0)
    measured = e2e["p90"]
    return {
        "predicted_p90_e2e": predicted,
        "measured_p90_e2e": measured,
        "ratio": measured / predicted if predicted > 0 else math.inf,
    }


def meets_targets(result: RequestResult, targets: dict[str, float]) -> bool:
    """A request is good when it succeeded and met every target; ITL's is met by its worst gap."""
    if not result.ok:
        return False
    gaps = inter_token_latencies(result.token_times)
    measured = {
        "ttft": result.ttft,
        "e2e": result.e2e,
        "tpot": result.tpot or 0.0,  # one token: no decode time, as vLLM counts it
        "itl": max(gaps, default=0.0),
    }
    return all(measured[name] <= limit for name, limit in targets.items())


def goodput(results: list[RequestResult], targets: dict[str, float], wall_seconds: float) -> Goodput:
    good = sum(meets_targets(r, targets) for r in results)
    return {
        "targets": targets,
        "good_requests": good,
        "share": good / len(results) if results else 0.0,
        "requests_per_second": good / wall_seconds if wall_seconds > 0 else 0.0,
    }


def summarise_level(
    concurrency: int | None,
    results: list[RequestResult],
    wall_seconds: float,
    *,
    rate: float | None = None,
    arrivals: str | None = None,
    targets: dict[str, float] | None = None,
    client_cpu_seconds: float | None = None,
    read_lags: list[float] | None = None,
    interrupted: bool = False,
) -> LevelSummary:
    good = [r for r in results if r.ok]
    ttft = distribution([r.ttft for r in good])
    gaps = [gap for r in good for gap in inter_token_latencies(r.token_times)]
    itl = distribution(gaps)
    tpot = distribution([r.tpot for r in good if r.tpot is not None])
    e2e = distribution([r.e2e for r in good])
    tokens = median([r.tokens for r in good]) if good else None
    total_tokens = sum(r.tokens for r in good)
    errors: dict[str, int] = {}
    for result in results:
        if not result.ok:
            reason = result.error or "stream ended without any token"
            errors[reason] = errors.get(reason, 0) + 1
    received = sum(len(r.token_times) for r in results)
    return LevelSummary(
        concurrency=concurrency,
        rate=rate,
        arrivals=arrivals,
        requests=len(results),
        succeeded=len(good),
        failed=len(results) - len(good),
        wall_seconds=wall_seconds,
        requests_per_second=len(good) / wall_seconds if wall_seconds > 0 else 0.0,
        output_tokens_per_second=total_tokens / wall_seconds if wall_seconds > 0 else 0.0,
        output_tokens_median=tokens,
        ttft=ttft,
        itl=itl,
        tpot=tpot,
        e2e=e2e,
        rule_of_thumb=rule_of_thumb(ttft, itl, e2e, tokens),
        errors=dict(sorted(errors.items())),
        goodput=goodput(results, targets, wall_seconds) if targets else None,
        client_cpu_seconds=client_cpu_seconds,
        client_cpu_us_per_token=(
            client_cpu_seconds / received * 1e6 if client_cpu_seconds is not None and received else None
        ),
        same_read_gaps=sum(1 for gap in gaps if gap == 0.0) / len(gaps) if gaps else None,
        client_read_lag=distribution(read_lags) if read_lags else None,
        interrupted=interrupted,
    )
