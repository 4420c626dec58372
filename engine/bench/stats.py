"""The metric math of a benchmark, pure: percentiles, inter-token latency, one level's summary.

Every timestamp is seconds on one monotonic clock (`time.perf_counter`). Definitions follow the
usual LLM-serving vocabulary (vLLM's benchmark scripts use the same):

- TTFT, time to first token: request sent -> first chunk that carries generated text;
- ITL, inter-token latency: the gap between two consecutive text chunks of one stream, pooled over
  all requests of a level (servers send one token per chunk, so it is the time per output token);
- TTLT, time to last token: request sent -> last text chunk.

The rule of thumb P90 TTLT ≈ P90 TTFT + P90 ITL × output tokens is reported with both sides, so a
reader sees when a server's tail behaves differently from its steady decode (queueing, batching
hiccups), which is what the check is for.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from statistics import fmean, median

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class RequestResult:
    """What one streamed request measured. `token_times` are the arrival times of text chunks."""

    start: float
    end: float
    token_times: tuple[float, ...] = ()
    output_tokens: int | None = None  # from the server's usage data, when it sent any
    prompt_tokens: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.token_times)

    @property
    def tokens(self) -> int:
        """Output tokens: the server's count where given, else one per text chunk."""
        return self.output_tokens if self.output_tokens is not None else len(self.token_times)


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
    """Gaps between consecutive text chunks of one stream (empty for fewer than two chunks)."""
    return [later - earlier for earlier, later in zip(token_times, token_times[1:])]


def time_to_first_token(result: RequestResult) -> float:
    return result.token_times[0] - result.start


def time_to_last_token(result: RequestResult) -> float:
    return result.token_times[-1] - result.start


def distribution(values: list[float]) -> dict[str, float] | None:
    """Mean and the reported percentiles, or None when nothing was measured."""
    if not values:
        return None
    summary = {"mean": fmean(values)}
    summary.update({f"p{q}": percentile(values, q) for q in PERCENTILES})
    return summary


@dataclass(frozen=True)
class LevelSummary:
    """One concurrency level, ready for the report (all latencies in seconds)."""

    concurrency: int
    requests: int
    succeeded: int
    failed: int
    wall_seconds: float
    requests_per_second: float
    output_tokens_per_second: float
    output_tokens_median: float | None
    ttft: dict[str, float] | None
    itl: dict[str, float] | None
    ttlt: dict[str, float] | None
    rule_of_thumb: dict[str, float] | None
    errors: list[str] = field(default_factory=list)


def rule_of_thumb(ttft: dict | None, itl: dict | None, ttlt: dict | None, tokens: float | None) -> dict | None:
    """P90 TTLT against P90 TTFT + P90 ITL × (median output tokens − 1), and their ratio.

    The first token is covered by TTFT, so the decode part spans one token fewer than the output.
    """
    if not (ttft and itl and ttlt and tokens):
        return None
    predicted = ttft["p90"] + itl["p90"] * max(tokens - 1, 0)
    measured = ttlt["p90"]
    return {
        "predicted_p90_ttlt": predicted,
        "measured_p90_ttlt": measured,
        "ratio": measured / predicted if predicted > 0 else math.inf,
    }


def summarise_level(concurrency: int, results: list[RequestResult], wall_seconds: float) -> LevelSummary:
    good = [r for r in results if r.ok]
    bad = [r for r in results if not r.ok]
    ttft = distribution([time_to_first_token(r) for r in good])
    itl = distribution([gap for r in good for gap in inter_token_latencies(r.token_times)])
    ttlt = distribution([time_to_last_token(r) for r in good])
    tokens = median([r.tokens for r in good]) if good else None
    total_tokens = sum(r.tokens for r in good)
    errors = sorted({r.error or "stream ended without any text" for r in bad})
    return LevelSummary(
        concurrency=concurrency,
        requests=len(results),
        succeeded=len(good),
        failed=len(bad),
        wall_seconds=wall_seconds,
        requests_per_second=len(good) / wall_seconds if wall_seconds > 0 else 0.0,
        output_tokens_per_second=total_tokens / wall_seconds if wall_seconds > 0 else 0.0,
        output_tokens_median=tokens,
        ttft=ttft,
        itl=itl,
        ttlt=ttlt,
        rule_of_thumb=rule_of_thumb(ttft, itl, ttlt, tokens),
        errors=errors,
    )
