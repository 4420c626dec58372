"""A fake OpenAI-compatible server (benchmarks/fake_openai_server.py) in its own process, per module."""

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serving(command: list[str], url: str, what: str) -> subprocess.Popen:
    """Start a benchmark server script and wait until its /health answers."""
    proc = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.1)


@pytest.fixture(scope="module")
def fake_server():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, str(REPO / "benchmarks" / "fake_openai_server.py"), "--port", str(port)]
    proc = start_serving([*command, "--token-delay", "0.002"], url, "fake server")
    yield url
    proc.terminate()
    proc.wait(timeout=10)
