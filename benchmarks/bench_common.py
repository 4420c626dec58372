"""What the side-by-side benchmarks (bench_vs_vllm.py, bench_vs_guidellm.py) share.

Running `mdeploy bench` for one level and reading its report, running another client's command
and failing with its stderr, starting a local server until it answers, and printing a table of
figures with the ratio mdeploy / other. Both scripts import it from their own folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_checked(command: list[str], env: dict | None = None, timeout: float = 1800) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} ... failed ({done.returncode}):\n{done.stderr[-3000:]}")


def run_mdeploy(
    *,
    url: str,
    model: str,
    concurrency: int,
    requests: int,
    output_len: int,
    prompt: list[str],
    out: Path,
    prefix: list[str] = (),  # type: ignore[assignment]
    ignore_eos: bool = True,
) -> dict:
    """One closed-loop level of `mdeploy bench`; returns the level of its report.json.

    `prompt` is the prompt's flags: ["--prompt-len", "16"] or ["--dataset", FILE].
    """
    command = [
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
    run_checked([*prefix, *command], dict(os.environ, PYTHONPATH=str(REPO)))
    level: dict = json.loads((out / "report.json").read_text())["levels"][0]
    return level


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
