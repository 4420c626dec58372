"""benchmarks/bench_client_cpu.py --url: the client-cost figures against a server already running.

Against the fake OpenAI server (tests/bench/conftest.py), which answers like vLLM: the model is
read from its /v1/models, both the generator and the bare loop stream every request through, and a
URL where nothing answers is one line naming it, not a client's traceback.
"""

import subprocess
import sys

from tests.bench.conftest import REPO, free_port

SCRIPT = str(REPO / "benchmarks" / "bench_client_cpu.py")


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300, cwd=REPO)


def test_measures_both_clients_against_a_running_server(fake_server):
    done = run_script("--url", f"{fake_server}/v1", "--quick", "--no-vllm")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"against {fake_server}/v1 (fake-model)" in out  # the model came from /v1/models
    rows = {line.split("  ")[0]: line for line in out.splitlines() if "  " in line}
    for name in ("mdeploy (this tree)", "bare epoll loop (floor)"):
        figure = float(rows[name][len(name) :].split()[0])
        assert figure > 0, out  # a client that received no token would have stopped the script
    assert "ratio this tree / bare epoll loop (floor)" in out


def test_a_server_that_does_not_answer_is_one_line():
    done = run_script("--url", f"http://127.0.0.1:{free_port()}/v1", "--quick", "--no-vllm")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "cannot read the served model from http://127.0.0.1:" in done.stderr
