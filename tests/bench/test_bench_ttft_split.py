"""A report's records tied to the server's own log of the same requests, and a client's CPU read
from its process tree — what bench_vs_guidellm.py --breakdown and its CPU row rest on.

The run goes through the real CLI against benchmarks/sse_stream_server.py --log. What is asserted
is causal order, never speed: a request reaches the server after the client stamped its start,
its first token is written after it arrived, and the client stamps that token after the write.
A report whose `started_at` were on another clock than the wall clock, or whose kernel receive
stamps were misplaced on its timeline, breaks that order by far more than the margins here.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest

from .conftest import REPO, free_port, start_serving

sys.path.insert(0, str(REPO / "benchmarks"))
import bench_common  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_vs_guidellm", REPO / "benchmarks" / "bench_vs_guidellm.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


@pytest.fixture
def logging_server(tmp_path):
    port, log = free_port(), tmp_path / "requests.jsonl"
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(REPO / "benchmarks" / "sse_stream_server.py"), "--port", str(port)]
    proc = start_serving([*command, "--step", "0.003", "--log", str(log)], url, "sse_stream_server.py")
    yield url, log
    proc.terminate()
    proc.wait(timeout=10)


def bench_report(url: str, out, *flags: str) -> dict:
    """`mdeploy bench URL ... --output OUT` through the real CLI, in its own process: the report."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "bench",
            url,
            "--model",
            "fake-model",
            "--no-plots",
            "--output",
            str(out),
            *flags,
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads((out / "report.json").read_text())


def test_report_times_and_the_servers_log_agree_on_the_order_of_events(logging_server, tmp_path):
    url, log = logging_server
    flags = ("--concurrency", "4", "--requests", "12", "--max-tokens", "6", "--ignore-eos")
    level = bench_report(url, tmp_path / "bench", *flags)["levels"][0]
    logged, _ = bench.new_log_entries(log, 0)
    assert len(logged) == 12 and all(entry["prompt"] for entry in logged)
    way_there, at_server, way_back = bench.ttft_split(bench.client_stamps("mdeploy", level), logged)
    # Each part is a mean of one step of causal order (ms; a stamp is exact to well under 1 ms).
    assert way_there > -0.5 and at_server > -0.5 and way_back > -0.5
    # The three parts are the whole of mdeploy's TTFT.
    ttft_ms = level["ttft"]["mean"] * 1000
    assert way_there + at_server + way_back == pytest.approx(ttft_ms, abs=0.01)
    # And the anchor is the wall clock: the level started within the minute before now.
    assert time.time() - 60 < level["started_at"] < time.time()


@pytest.mark.parametrize("flags, sent", [((), 0.0), (("--temperature", "0.7"), 0.7)])
def test_the_temperature_asked_is_the_one_each_request_sends(logging_server, tmp_path, flags, sent):
    url, log = logging_server
    report = bench_report(url, tmp_path / "bench", "--concurrency", "2", "--requests", "4", "--max-tokens", "3", *flags)
    logged, _ = bench.new_log_entries(log, 0)
    assert [entry["temperature"] for entry in logged] == [sent] * 4  # as the server read it
    assert report["settings"]["temperature"] == sent


def test_a_split_needs_the_same_requests_on_both_sides():
    with pytest.raises(SystemExit, match="logged 1 requests for the client's 2"):
        bench.ttft_split([(0.0, 1.0), (0.0, 1.0)], [{"arrival": 0.1, "first_token": 0.5}])


BURN = """
import subprocess, sys, time
def burn(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])  # a worker process of its own
burn(0.4)
child.wait()
time.sleep(0.3)
"""
WORKER = """
import time
end = time.process_time() + 0.4
while time.process_time() < end:
    pass
"""


def test_the_tree_sampler_counts_a_clients_worker_processes_too():
    proc = subprocess.Popen([sys.executable, "-c", BURN, WORKER])
    with bench_common.TreeCpuSampler(proc.pid, interval=0.02) as sampler:
        proc.wait(timeout=120)
    first, last = sampler.samples[0][0], sampler.samples[-1][0]
    # 0.8 s of burning (0.4 in the process, 0.4 in its worker) plus the interpreters' start-up;
    # the worker's share is counted whether it still runs or has been waited for.
    assert 0.7 < sampler.between(first, last) < 3.0
    with pytest.raises(ValueError, match="outside"):
        sampler.at(last + 10)
