"""How much the load generator costs, measured against a local fake server that does no work.

`mdeploy bench` must not be the bottleneck of what it measures. This prints two figures:

1. per-token overhead: the generator's own CPU time per streamed token (process time of this
   process / tokens received), with the fake server sending chunks as fast as it can;
2. streams sustained: at a realistic decode pace (one token every 20 ms per stream, 50 tok/s,
   about an 8B model on one H100), the highest concurrency at which the measured inter-token
   latency stays within 10 % (p50) and 25 % (p90) of the pace the server keeps.

The fake server runs in its own process, so on a two-core machine each side has one core.

    .venv/bin/python benchmarks/bench_overhead.py            # about a minute
    .venv/bin/python benchmarks/bench_overhead.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine.bench.load import LoadSpec, run_level  # noqa: E402
from engine.bench.stats import summarise_level  # noqa: E402
from engine.bench.workload import RequestPlan  # noqa: E402

PACE = 0.020  # seconds between tokens of one stream


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeServer:
    def __init__(self, token_delay: float):
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "benchmarks" / "fake_openai_server.py"),
                "--port",
                str(self.port),
                "--token-delay",
                str(token_delay),
            ]
        )
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the fake server did not start") from None
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def measure(base_url: str, concurrency: int, requests: int, max_tokens: int):
    spec = LoadSpec(base_url=base_url, model="fake-model")
    run = run_level(spec, [RequestPlan("hi", max_tokens)] * requests, concurrency=concurrency)
    return summarise_level(concurrency, run.results, run.wall_seconds), run.cpu_seconds


def per_token_overhead(quick: bool) -> None:
    server = FakeServer(token_delay=0.0)
    try:
        measure(server.base_url, 4, 8, 32)  # warm up imports and connections
        summary, cpu = measure(server.base_url, 8, 16 if quick else 64, 256)
    finally:
        server.close()
    tokens = summary.output_tokens_per_second * summary.wall_seconds
    print("1. per-token overhead (fake server streaming as fast as it can, 8 streams)")
    print(f"   {tokens:.0f} tokens in {summary.wall_seconds:.2f} s = {summary.output_tokens_per_second:,.0f} tok/s")
    print(f"   generator CPU: {cpu:.2f} s = {cpu / tokens * 1e6:.1f} µs per token")


def streams_sustained(quick: bool) -> None:
    levels = (16, 64) if quick else (32, 64, 128, 256, 512)
    print(f"2. streams sustained at one token every {PACE * 1000:.0f} ms per stream (64 tokens each)")
    print(f"   {'streams':>7} {'ITL p50':>8} {'ITL p90':>8} {'tok/s':>8} {'gen CPU':>8}  verdict")
    server = FakeServer(token_delay=PACE)
    best = 0
    ceiling = 0.0
    try:
        for concurrency in levels:
            summary, cpu = measure(server.base_url, concurrency, 2 * concurrency, 64)
            p50, p90 = summary.itl["p50"], summary.itl["p90"]
            load = cpu / summary.wall_seconds
            held = summary.failed == 0 and p50 <= PACE * 1.10 and p90 <= PACE * 1.25
            best = concurrency if held else best
            # Below ~80 % of its core the generator is waiting for chunks: the fake server is the limit.
            verdict = "holds the pace" if held else "falls behind" + (" (server-bound)" if load < 0.8 else "")
            print(
                f"   {concurrency:>7} {p50 * 1000:>6.1f}ms {p90 * 1000:>6.1f}ms "
                f"{summary.output_tokens_per_second:>8.0f} {load:>7.0%}  {verdict}"
            )
            ceiling = max(ceiling, summary.output_tokens_per_second / load if load else 0.0)
    finally:
        server.close()
    print(f"   sustained: {best} concurrent streams on this machine ({os.cpu_count()} cores, server included)")
    print(
        f"   the generator alone would saturate one core at about {ceiling:,.0f} tok/s "
        f"= {ceiling * PACE:,.0f} streams at this pace"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Measure the load generator's own overhead.")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    args = parser.parse_args()
    per_token_overhead(args.quick)
    streams_sustained(args.quick)


if __name__ == "__main__":
    main()
