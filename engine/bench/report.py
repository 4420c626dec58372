"""The benchmark report: JSON for tools, a text table for people. Pure functions over summaries."""

from __future__ import annotations

import dataclasses
import json
import math

from engine.bench.stats import LevelSummary

REPORT_VERSION = 1


def build_report(*, base_url: str, model: str, settings: dict, levels: list[LevelSummary]) -> dict:
    return {
        "version": REPORT_VERSION,
        "base_url": base_url,
        "model": model,
        "settings": settings,
        "units": {"latency": "seconds", "throughput": "per second"},
        "levels": [dataclasses.asdict(level) for level in levels],
    }


def report_json(report: dict) -> str:
    # JSON has no infinity; a ratio over a zero prediction is written as null.
    return json.dumps(_finite(report), indent=2, sort_keys=False) + "\n"


def render_table(levels: list[LevelSummary]) -> str:
    """One row per level; latencies in milliseconds, which is the scale they live at."""
    header = (
        f"{'conc':>4} {'ok':>5} {'fail':>4} {'req/s':>7} {'tok/s':>8} "
        f"{'TTFT p50/p90/p99 ms':>22} {'ITL p50/p90/p99 ms':>21} {'TTLT p50/p90/p99 ms':>23} {'TTLT≈':>6}"
    )
    lines = [header]
    for level in levels:
        check = level.rule_of_thumb
        ratio = f"{check['ratio']:.2f}x" if check and math.isfinite(check["ratio"]) else "-"
        lines.append(
            f"{level.concurrency:>4} {level.succeeded:>5} {level.failed:>4} "
            f"{level.requests_per_second:>7.2f} {level.output_tokens_per_second:>8.1f} "
            f"{_triple(level.ttft):>22} {_triple(level.itl):>21} {_triple(level.ttlt):>23} {ratio:>6}"
        )
    lines.append(
        "TTLT≈: measured P90 TTLT / (P90 TTFT + P90 ITL × (median output tokens − 1)); "
        "near 1x when the tail is steady decode, above it when requests queue or stall"
    )
    for level in levels:
        for error in level.errors:
            lines.append(f"concurrency {level.concurrency}: error: {error}")
    return "\n".join(lines)


def _triple(dist: dict | None) -> str:
    if not dist:
        return "-"
    return "/".join(_ms(dist[key]) for key in ("p50", "p90", "p99"))


def _ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
