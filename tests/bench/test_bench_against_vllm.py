"""`mdeploy bench` against a real vLLM server (vLLM's CPU build) serving the generated tiny model.

Runs where vLLM is installed: `vllm` on PATH, or the virtualenv docs/bench.md sets up at
/work/venvs/vllm-cpu; skipped, with that reason, elsewhere. The model is the tiny one as
`mdeploy demo` writes it, with vLLM's own defaults: its head size of 32 is what vLLM's CPU
attention needs, and vLLM takes its context (max_model_len) from the model. No wall-clock
assertion: what is checked is what vLLM streamed and what both clients report.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from .conftest import REPO, free_port

spec = importlib.util.spec_from_file_location("bench_vs_vllm", REPO / "benchmarks" / "bench_vs_vllm.py")
bench_vs_vllm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench_vs_vllm)
VLLM = bench_vs_vllm.find_vllm(None)
pytestmark = pytest.mark.skipif(VLLM is None, reason="vLLM is not installed (see docs/bench.md for the CPU setup)")
START_TIMEOUT = 900  # vLLM's start-up on two busy cores: imports, engine core, warm-up


@pytest.fixture(scope="module")
def vllm_server(tmp_path_factory):
    from engine.local.tiny_model import write_tiny_chat_model

    model = write_tiny_chat_model(tmp_path_factory.mktemp("vllm") / "tiny-vllm")
    port = free_port()
    log = open(model.parent / "vllm.log", "w")
    proc = subprocess.Popen(
        [VLLM, "serve", str(model), "--port", str(port), "--dtype", "float32", "--enforce-eager"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ, VLLM_CPU_KVCACHE_SPACE="1", HF_HUB_OFFLINE="1"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                os.killpg(proc.pid, signal.SIGKILL)
                pytest.fail(f"vllm serve did not start:\n{(model.parent / 'vllm.log').read_text()[-3000:]}")
            time.sleep(2)
    yield url, str(model)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def test_every_stream_from_vllm_delivers_the_tokens_asked(vllm_server, run_mdeploy, tmp_path):
    url, model = vllm_server
    out = tmp_path / "report"
    done = run_mdeploy(
        "bench",
        url,
        "--concurrency",
        "1,4",
        "--requests",
        "8",
        "--max-tokens",
        "16",
        "--ignore-eos",
        "--output",
        str(out),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["model"] == model
    for level in report["levels"]:
        assert (level["succeeded"], level["failed"]) == (8, 0)
        for record in level["records"]:
            assert (record["output_tokens"], record["finish_reason"]) == (16, "length")
            # vLLM streams about one chunk per token (empty content for a partial character), and
            # now and then folds two into one chunk: tokens are counted from its usage, not chunks.
            assert 1 <= record["token_chunks"] == len(record["token_times"]) <= 16
    assert (out / "latency.png").exists()


def test_a_short_max_tokens_without_ignore_eos_still_succeeds(vllm_server, run_mdeploy, tmp_path):
    url, _ = vllm_server
    done = run_mdeploy(
        "bench",
        url,
        "--concurrency",
        "2",
        "--requests",
        "2",
        "--max-tokens",
        "4",
        "--no-plots",
        "--output",
        str(tmp_path),
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def test_side_by_side_script_compares_with_vllm_bench_serve(vllm_server):
    url, model = vllm_server
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_vs_vllm.py"), "--url", url, "--model", model, "--quick"],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    lines = {line.split("  ")[0].strip(): line.split() for line in done.stdout.splitlines() if line.endswith("x")}
    # Each figure is present and a number of the right sign; how they compare depends on the
    # machine's load and is the script's output, not this test's. TPOT may be 0 for either client:
    # tokens that reach a client in one read share its time (docs/bench.md, "Token times").
    for label in ("TTFT mean (ms)", "E2E mean (ms)", "output tok/s", "client CPU µs/token", "TPOT mean (ms)"):
        assert label in lines, done.stdout
        mine, theirs = float(lines[label][-3]), float(lines[label][-2])
        if label == "TPOT mean (ms)":
            assert mine >= 0 and theirs >= 0, done.stdout
        else:
            assert mine > 0 and theirs > 0, done.stdout


def test_side_by_side_script_runs_both_clients_at_once(vllm_server):
    url, model = vllm_server
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_vs_vllm.py"),
            *("--url", url, "--model", model, "--together", "--requests", "48", "--concurrency", "4"),
            *("--output-len", "32", "--rounds", "1"),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stderr
    head = next(line for line in done.stdout.splitlines() if "inside the overlap" in line)
    kept = [int(part.split()[-1]) for part in head.rsplit(":", 1)[1].split(",")]
    # Neither client begins its load before the other is ready (a started-one-after-the-other run
    # on a loaded CI machine had vLLM's client finish before mdeploy's first request): both have
    # requests that ran wholly while the other was sending.
    assert all(count > 0 for count in kept), done.stdout
    lines = {line.split("  ")[0].strip(): line.split() for line in done.stdout.splitlines() if line.endswith("x")}
    for label in ("TTFT mean (ms)", "E2E mean (ms)"):
        mine, theirs = float(lines[label][-3]), float(lines[label][-2])
        assert mine > 0 and theirs > 0, done.stdout
    # TPOT may be 0 for either: on a loaded CI machine vLLM's API server fell behind its engine and
    # sent each request's 32 tokens in one event, so both clients saw them at one time.
    mine, theirs = float(lines["TPOT mean (ms)"][-3]), float(lines["TPOT mean (ms)"][-2])
    assert mine >= 0 and theirs >= 0, done.stdout
