"""Run a benchmark: each level in turn, against one endpoint, into summaries and per-request records.

Levels run one after another; each level's wall time spans its first request sent to its last
stream closed, which is what requests/s and tokens/s divide by. Finished levels are appended to
the list the caller passes, so a Ctrl-C in the middle of a level leaves every finished one to be
reported (the interrupted level is dropped: its percentiles would describe a partial load).
"""

from __future__ import annotations

import functools
import gc
import random
from dataclasses import dataclass, field
from typing import TextIO

from engine.bench.load import LoadSpec, run_level
from engine.bench.progress import ProgressBar
from engine.bench.stats import LevelSummary, RequestResult, summarise_level
from engine.bench.workload import DatasetRow, Length, Level, arrival_offsets, plan_requests, requests_for


@dataclass(frozen=True)
class Workload:
    levels: list[Level]
    requests: int | None = None  # per level; None: see workload.requests_for
    max_tokens: Length = Length(128, 128)
    prompt: str | None = None
    prompt_len: Length | None = None
    dataset: list[DatasetRow] | None = None
    arrivals: str = "constant"
    seed: int = 0
    goodput: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LevelOutcome:
    summary: LevelSummary
    results: list[RequestResult]
    began: float  # perf_counter at the level's start; request times in the report are relative to it
    began_unix: float  # the same moment on the wall clock (the report's `started_at`)


def run_benchmark(
    spec: LoadSpec, workload: Workload, finished: list[LevelOutcome], progress: TextIO | None = None
) -> list[LevelOutcome]:
    rng = random.Random(workload.seed)
    for level in workload.levels:
        total = requests_for(level, workload.requests)
        plans = plan_requests(
            total,
            max_tokens=workload.max_tokens,
            prompt=workload.prompt,
            prompt_len=workload.prompt_len,
            dataset=workload.dataset,
            rng=rng,
        )
        offsets = arrival_offsets(total, level.rate, workload.arrivals, rng) if level.rate is not None else None
        bar = ProgressBar(total, f"{level.label:>16}", stream=progress)
        # A collection pass in the middle of a stream would delay every timestamp behind it.
        gc.collect()
        gc.disable()
        try:
            run = run_level(
                spec,
                plans,
                concurrency=level.concurrency,
                offsets=offsets,
                on_result=functools.partial(_advance, bar),
            )
        finally:
            gc.enable()
            bar.close()
        summary = summarise_level(
            level.concurrency,
            run.results,
            run.wall_seconds,
            rate=level.rate,
            arrivals=workload.arrivals if level.rate is not None else None,
            targets=workload.goodput,
            client_cpu_seconds=run.cpu_seconds,
            read_lags=run.read_lags,
        )
        finished.append(LevelOutcome(summary, run.results, run.began, run.began_unix))
    return finished


def _advance(bar: ProgressBar, result: RequestResult) -> None:
    bar.advance(result.ok)
