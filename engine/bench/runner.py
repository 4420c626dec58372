"""Run a benchmark: each concurrency level in turn, against one endpoint, into summaries.

Levels run one after another on one event loop; each level's wall time spans its first request
sent to its last stream closed, which is what requests/s and tokens/s divide by.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from engine.bench.load import LoadSpec, run_level
from engine.bench.progress import ProgressBar
from engine.bench.stats import LevelSummary, summarise_level
from engine.errors import UserError


def parse_levels(text: str) -> list[int]:
    """`1,4,16` -> [1, 4, 16]; each a positive integer, listed once."""
    levels: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise UserError(f"--concurrency {text!r}: give positive integers separated by commas, e.g. 1,4,16")
        if int(part) in levels:
            raise UserError(f"--concurrency {text!r}: {part} is listed twice")
        levels.append(int(part))
    return levels


def requests_for(concurrency: int, requested: int | None) -> int:
    """Requests per level: as asked, else four rounds of streams (at least 8) for stable percentiles."""
    return requested if requested is not None else max(8, 4 * concurrency)


def run_benchmark(
    spec: LoadSpec, levels: list[int], requests: int | None, progress: TextIO | None = None
) -> list[LevelSummary]:
    summaries = []
    for concurrency in levels:
        total = requests_for(concurrency, requests)
        bar = ProgressBar(total, f"concurrency {concurrency:>3}", stream=progress)
        results, wall = asyncio.run(run_level(spec, concurrency, total, on_result=lambda r: bar.advance(r.ok)))
        bar.close()
        summaries.append(summarise_level(concurrency, results, wall))
    return summaries
