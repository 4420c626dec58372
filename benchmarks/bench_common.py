"""What the side-by-side benchmarks (bench_vs_vllm.py, bench_vs_guidellm.py) share.

Running `mdeploy bench` for one level and reading its report, running another client's command
and failing with its stderr, sampling the CPU time of a client that spreads its work over several
processes, starting a local server until it answers, and printing a table of figures with the
ratio mdeploy / other. Both scripts import it from their own folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as `python benchmarks/X.py`: the engine package beside this folder
    sys.path.insert(0, str(REPO))


def run_checked(command: list[str], env: dict | None = None, timeout: float = 1800) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed ({done.returncode}):\n{done.stderr[-3000:]}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _tree_cpu_seconds(root: int) -> float | None:
    """CPU seconds (user + system) of `root` and its living descendants, and of the children each
    has waited for; from /proc, in clock ticks (10 ms), so a sample is coarse but never double-counts.
    None once `root` itself is gone."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # it ended between the listing and the read
            if pid == root:
                return None
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return total / CLOCK_TICKS


class TreeCpuSampler:
    """Samples a process tree's CPU time on the wall clock, so the part spent inside a window known
    only afterwards (a tool's own load phase, from its report) can be read off by interpolation.

    For a client that does its work in worker processes (guidellm), where wrapping a coroutine in
    `time.process_time` (as bench_vs_vllm.py does for vLLM's) would miss most of it. Sampling every
    `interval` seconds costs well under a millisecond of CPU each time.
    """

    def __init__(self, pid: int, interval: float = 0.05):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []  # (time.time(), CPU seconds so far)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeCpuSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            sampled_at, cpu = time.time(), _tree_cpu_seconds(self.pid)
            if cpu is None:
                return
            self.samples.append((sampled_at, cpu))
            if self._stop.wait(self.interval):
                return

    def at(self, when: float) -> float:
        """CPU seconds used by `when`, interpolated between the samples around it."""
        before = [sample for sample in self.samples if sample[0] <= when]
        after = [sample for sample in self.samples if sample[0] >= when]
        if not before or not after:
            raise ValueError("the window is outside what was sampled")
        (t0, c0), (t1, c1) = before[-1], after[0]
        return c0 if t1 == t0 else c0 + (c1 - c0) * (when - t0) / (t1 - t0)

    def between(self, start: float, end: float) -> float:
        return self.at(end) - self.at(start)


def mdeploy_command(
    *,
    url: str,
    model: str,
    concurrency: int,
    requests: int,
    output_len: int,
    prompt: list[str],
    out: Path,
    ignore_eos: bool = True,
) -> list[str]:
    """`mdeploy bench` for one closed-loop level, its report written to `out`.

    `prompt` is the prompt's flags: ["--prompt-len", "16"] or ["--dataset", FILE].
    """
    return [
        sys.executable,
        "-m",
        "engine",
        "bench",
        url,
        "--model",
        model,
        "--concurrency",
        str(concurrency),
        "--requests",
        str(requests),
        "--max-tokens",
        str(output_len),
        *(["--ignore-eos"] if ignore_eos else []),
        *prompt,
        "--no-plots",
        "--output",
        str(out),
    ]


MDEPLOY_ENV = dict(os.environ, PYTHONPATH=str(REPO))


def mdeploy_level(out: Path) -> dict:
    """The (only) level of the report.json `mdeploy bench --output out` wrote."""
    level: dict = json.loads((out / "report.json").read_text())["levels"][0]
    return level


def run_mdeploy(*, out: Path, prefix: Sequence[str] = (), **settings) -> dict:
    """One closed-loop level of `mdeploy bench` (mdeploy_command's settings); returns its level."""
    run_checked([*prefix, *mdeploy_command(out=out, **settings)], MDEPLOY_ENV)
    return mdeploy_level(out)


def output_tokens(level: dict) -> int:
    return sum(record["output_tokens"] or 0 for record in level["records"])


def start_server(command: list[str], health_url: str, log_path: Path, timeout: float) -> subprocess.Popen:
    """Start a server in a session of its own and wait until `health_url` answers."""
    log = open(log_path, "w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(health_url, timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"{command[0]} exited ({proc.returncode}); see {log_path}") from None
            time.sleep(0.5)
    stop_server(proc)
    raise SystemExit(f"the server did not answer {health_url} in {timeout:.0f} s; see {log_path}")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def ratio(mine: float, theirs: float) -> float:
    return mine / theirs if theirs else float("nan")


def print_table(other: str, rows: list[tuple], extra: str | None = None) -> None:
    """Rows of (label, mdeploy, other[, extra column]); prints the ratio mdeploy / other."""
    head = f"{'':<34} {'mdeploy':>10} {other:>10} {'ratio':>7}"
    print(head + (f" {extra:>10}" if extra else ""))
    for label, mine, theirs, *more in rows:
        line = f"{label:<34} {mine:>10.2f} {theirs:>10.2f} {ratio(mine, theirs):>6.3f}x"
        if extra:
            line += f" {more[0]:>10.2f}" if more and more[0] is not None else f" {'':>10}"
        print(line)


def percentile(values: list[float], q: float) -> float:
    """mdeploy's own percentile (engine/bench/stats.py), so both columns interpolate alike; nan
    for no values, where a client kept none of a figure."""
    from engine.bench.stats import percentile as mdeploy_percentile

    return mdeploy_percentile(values, q) if values else float("nan")


# --- two clients at once against one server (--together) ---


@dataclass(frozen=True)
class Stamped:
    """One successful request as a client stamped it: wall-clock seconds, and its token gaps."""

    start: float
    first: float
    last: float
    tokens: int
    gaps: tuple[float, ...]


def mdeploy_stamped(level: dict) -> list[Stamped]:
    began = level["started_at"]
    rows = []
    for record in level["records"]:
        if record["status"] != "ok":
            continue
        times = record["token_times"]
        rows.append(
            Stamped(
                start=began + record["start"],
                first=began + record["first_token"],
                last=began + record["last_token"],
                tokens=record["output_tokens"],
                gaps=tuple(b - a for a, b in zip(times, times[1:])),
            )
        )
    return rows


def inside_overlap(a: list[Stamped], b: list[Stamped]) -> tuple[list[Stamped], list[Stamped]]:
    """The requests of each client that started and ended while both clients were sending.

    Two clients run at once against one server see the same server at the same moments: its pace
    drifts for both alike. Outside the overlap one ran alone, against a server with half the load.
    """
    low = max(min(r.start for r in a), min(r.start for r in b))
    high = min(max(r.last for r in a), max(r.last for r in b))
    return [r for r in a if low <= r.start and r.last <= high], [r for r in b if low <= r.start and r.last <= high]


def stamped_figures(requests: list[Stamped]) -> dict[str, float]:
    """Figures in ms under vLLM's definitions, from any client's stamps."""
    ttft = [(r.first - r.start) * 1000 for r in requests]
    tpot = [(r.last - r.first) * 1000 / (r.tokens - 1) for r in requests if r.tokens > 1]
    e2e = [(r.last - r.start) * 1000 for r in requests]
    gaps = [gap * 1000 for r in requests for gap in r.gaps]
    return {
        "TTFT mean (ms)": mean(ttft),
        "TTFT p50 (ms)": percentile(ttft, 50),
        "TPOT mean (ms)": mean(tpot),
        "ITL p50 (ms)": percentile(gaps, 50),
        "E2E mean (ms)": mean(e2e),
        "E2E p90 (ms)": percentile(e2e, 90),
    }


# The server's own figures for the same requests: vLLM's Prometheus histograms, read before and
# after each client's run. Its TTFT runs from the request's arrival in its API server to the first
# token's output there (before it is streamed), its time per output token from the engine's
# first-token step to its last, its E2E from arrival to the request's end.
SERVER_HISTOGRAMS = {  # our label: vLLM's metric
    "TTFT mean (ms)": "vllm:time_to_first_token_seconds",
    "TPOT mean (ms)": "vllm:request_time_per_output_token_seconds",
    "E2E mean (ms)": "vllm:e2e_request_latency_seconds",
}


def server_histograms(url: str) -> dict[str, tuple[float, float]] | None:
    """(sum, count) of each of SERVER_HISTOGRAMS, summed over label sets; None without /metrics."""
    try:
        with urllib.request.urlopen(url.removesuffix("/v1") + "/metrics", timeout=10) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    totals = {name: [0.0, 0.0] for name in SERVER_HISTOGRAMS.values()}
    found = False
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]  # `name{labels} value` or `name value`
        metric, _, kind = name.rpartition("_")
        if metric in totals and kind in ("sum", "count"):
            totals[metric][kind == "count"] += float(line.rsplit(" ", 1)[1])
            found = True
    if not found:
        return None  # a /metrics without these (not vLLM), or a server that answers any GET alike
    return {metric: (pair[0], pair[1]) for metric, pair in totals.items()}


def server_means(before: dict | None, after: dict | None) -> dict[str, float] | None:
    """The server's mean of each figure over the requests between two readings, in ms."""
    if before is None or after is None:
        return None
    means = {}
    for label, metric in SERVER_HISTOGRAMS.items():
        count = after[metric][1] - before[metric][1]
        means[label] = (after[metric][0] - before[metric][0]) / count * 1000 if count else float("nan")
    return means
