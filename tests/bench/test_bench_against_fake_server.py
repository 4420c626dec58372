"""The load generator and `mdeploy bench` against benchmarks/fake_openai_server.py (a real HTTP server)."""

import asyncio
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.bench.load import LoadSpec, run_level
from engine.bench.target import discover_model

REPO = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def fake_server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "fake_openai_server.py"), "--port", str(port), "--token-delay", "0.002"]
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("fake server did not start")
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def test_model_is_discovered_from_v1_models(fake_server):
    assert discover_model(fake_server + "/v1", None) == "fake-model"


def test_every_request_of_a_level_streams_all_tokens(fake_server):
    spec = LoadSpec(base_url=fake_server + "/v1", model="fake-model", prompt="hi", max_tokens=5)
    results, wall = asyncio.run(run_level(spec, concurrency=3, requests=7))
    assert len(results) == 7
    assert all(r.ok for r in results)
    assert [len(r.token_times) for r in results] == [5] * 7
    assert [r.output_tokens for r in results] == [5] * 7  # from the usage chunk
    assert wall > 0


def test_http_errors_are_recorded_per_request(fake_server):
    spec = LoadSpec(base_url=fake_server + "/v1", model="no-such-model", prompt="hi", max_tokens=2)
    results, _ = asyncio.run(run_level(spec, concurrency=2, requests=2))
    assert all(r.error and r.error.startswith("HTTP 404") for r in results)


def test_unreachable_server_is_an_error_not_a_crash():
    spec = LoadSpec(base_url=f"http://127.0.0.1:{_free_port()}/v1", model="m", prompt="hi", max_tokens=2)
    results, _ = asyncio.run(run_level(spec, concurrency=1, requests=1))
    assert results[0].error


def test_bench_command_writes_report_and_plots(fake_server, run_mdeploy, tmp_path):
    out = tmp_path / "report"
    done = run_mdeploy(
        "bench", fake_server, "--concurrency", "1,2", "--requests", "4", "--max-tokens", "6", "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert [level["concurrency"] for level in report["levels"]] == [1, 2]
    assert report["levels"][1]["succeeded"] == 4
    assert report["model"] == "fake-model"
    assert (out / "latency.png").exists() and (out / "throughput.png").exists()


def test_bench_command_fails_when_no_request_succeeds(fake_server, run_mdeploy, tmp_path):
    done = run_mdeploy(
        "bench", fake_server, "--model", "wrong", "--concurrency", "1", "--requests", "1", "--no-plots",
        "--output", str(tmp_path),
    )
    assert done.returncode == 1
    assert "error: no request succeeded" in done.stderr


def test_bench_command_reports_an_unreachable_target_in_one_line(run_mdeploy):
    done = run_mdeploy("bench", f"http://127.0.0.1:{_free_port()}", "--concurrency", "1")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: cannot reach")


def test_overhead_benchmark_prints_its_figures():
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_overhead.py"), "--quick"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "µs per token" in done.stdout
    assert "concurrent streams on this machine" in done.stdout
