"""The benchmark report: JSON for tools, a text table for people. Pure functions over outcomes.

report.json keeps every request, so a result can be checked afterwards: when it was due and sent,
its first and last token, its end, its token counts, status and error; and each token chunk's
arrival (seconds after the request was sent) for streams of up to `TOKEN_TIMES_KEPT` chunks,
an ITL summary for longer ones (a 32k-token stream would otherwise weigh a megabyte).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from engine.bench.stats import LevelSummary, RequestResult, distribution, inter_token_latencies

if TYPE_CHECKING:
    from engine.bench.runner import LevelOutcome

REPORT_VERSION = 2
TOKEN_TIMES_KEPT = 2048

# One level of the report: the fields of its LevelSummary, as `dataclasses.asdict` makes them (a
# dict[str, Any] to the type checker), and "records", its requests' RequestRecords.
LevelReport = dict[str, Any]


class RequestRecord(TypedDict):
    """One request of a level; times in seconds after the level started."""

    status: str  # "ok" or "failed"
    error: str | None
    scheduled: float | None
    start: float | None
    first_token: float | None
    last_token: float | None
    end: float | None
    token_chunks: int
    output_tokens: int | None
    prompt_tokens: int | None
    max_tokens: int | None
    finish_reason: str | None
    token_times: NotRequired[list[float]]  # seconds after the request was sent, up to TOKEN_TIMES_KEPT chunks
    itl: NotRequired[dict[str, float] | None]  # instead, for longer streams


class Report(TypedDict):
    version: int
    base_url: str
    model: str
    settings: Mapping[str, object]
    interrupted: bool
    units: dict[str, str]
    levels: list[LevelReport]


def build_report(
    *,
    base_url: str,
    model: str,
    settings: Mapping[str, object],
    outcomes: list[LevelOutcome],
    interrupted: bool = False,
) -> Report:
    levels = []
    for outcome in outcomes:
        level = dataclasses.asdict(outcome.summary)
        # Unix seconds of the level's start: the records' times are relative to it, and with it a
        # record can be matched to a server's own log of the same request.
        level["started_at"] = round(outcome.began_unix, 6)
        level["records"] = [request_record(result, outcome.began) for result in outcome.results]
        levels.append(level)
    return {
        "version": REPORT_VERSION,
        "base_url": base_url,
        "model": model,
        "settings": settings,
        "interrupted": interrupted,
        "units": {
            "latency": "seconds",
            "throughput": "per second",
            "record times": "seconds after the level started (its started_at, Unix seconds)",
        },
        "levels": levels,
    }


def request_record(result: RequestResult, level_start: float) -> RequestRecord:
    def since_level(t: float | None) -> float | None:
        return None if t is None else round(t - level_start, 6)

    times = result.token_times
    record: RequestRecord = {
        "status": "ok" if result.ok else "failed",
        "error": None if result.ok else result.error or "stream ended without any token",
        "scheduled": since_level(result.scheduled),
        "start": since_level(result.start),
        "first_token": since_level(times[0]) if times else None,
        "last_token": since_level(times[-1]) if times else None,
        "end": since_level(result.end),
        "token_chunks": len(times),
        "output_tokens": result.output_tokens,
        "prompt_tokens": result.prompt_tokens,
        "max_tokens": result.max_tokens,
        "finish_reason": result.finish_reason,
    }
    if len(times) <= TOKEN_TIMES_KEPT:
        record["token_times"] = [round(t - result.start, 6) for t in times]
    else:
        record["itl"] = distribution(inter_token_latencies(times))
    return record


def report_json(report: Report) -> str:
    # JSON has no infinity; a ratio over a zero prediction is written as null.
    return json.dumps(_finite(report), indent=1, sort_keys=False) + "\n"


def render_table(levels: list[LevelSummary]) -> str:
    """One row per level; latencies in milliseconds, which is the scale they live at."""
    header = (
        f"{'level':>8} {'ok':>5} {'fail':>4} {'req/s':>7} {'tok/s':>8} "
        f"{'TTFT p50/p90/p99 ms':>22} {'ITL p50/p90/p99 ms':>21} {'E2E p50/p90/p99 ms':>23} {'E2E≈':>6}"
    )
    lines = [header]
    for level in levels:
        check = level.rule_of_thumb
        ratio = f"{check['ratio']:.2f}x" if check and math.isfinite(check["ratio"]) else "-"
        lines.append(
            f"{_level_name(level):>8} {level.succeeded:>5} {level.failed:>4} "
            f"{level.requests_per_second:>7.2f} {level.output_tokens_per_second:>8.1f} "
            f"{_triple(level.ttft):>22} {_triple(level.itl):>21} {_triple(level.e2e):>23} {ratio:>6}"
        )
    lines.append(
        "level: cN = N streams in flight, R/s = R requests per second sent. E2E≈: measured P90 E2E / "
        "(P90 TTFT + P90 ITL × (median output tokens − 1)); near 1x when the tail is steady decode, "
        "above it when requests queue or stall"
    )
    for level in levels:
        if level.goodput:
            goodput = level.goodput
            targets = ", ".join(f"{name} ≤ {_ms(limit)} ms" for name, limit in goodput["targets"].items())
            lines.append(
                f"{_level_name(level)}: goodput {goodput['good_requests']}/{level.requests} requests "
                f"({goodput['share']:.0%}) met {targets}: {goodput['requests_per_second']:.2f} req/s"
            )
    cpu = [level.client_cpu_us_per_token for level in levels if level.client_cpu_us_per_token is not None]
    if cpu:
        lines.append("client CPU per token chunk (µs): " + ", ".join(f"{value:.0f}" for value in cpu))
    for level in levels:
        # When chunks share reads, ITL cannot resolve their gaps: say so, and whose doing it was.
        if level.same_read_gaps:
            lag = level.client_read_lag
            cause = f"; client read lag p99 {_ms(lag['p99'])} ms" if lag else ""
            lines.append(f"{_level_name(level)}: {level.same_read_gaps:.0%} of ITL gaps within one read{cause}")
    for level in levels:
        for error, count in level.errors.items():
            lines.append(f"{_level_name(level)}: {count} failed: {error}")
    return "\n".join(lines)


def _level_name(level: LevelSummary) -> str:
    return f"c{level.concurrency}" if level.rate is None else f"{level.rate:g}/s"


def _triple(dist: dict[str, float] | None) -> str:
    if not dist:
        return "-"
    return "/".join(_ms(dist[key]) for key in ("p50", "p90", "p99"))


def _ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _finite(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
