"""`mdeploy serve manifests/web-api.yaml`, as docs/local.md shows: the shipped FastAPI app under uvicorn."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mdeploy_support_processes_web", REPO / "tests/support/processes.py")
processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(processes)


def test_shipped_web_api_manifest_serves_its_health_route():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("MODAL_ENVIRONMENT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "manifests/web-api.yaml", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = processes.LineReader(proc.stdout)
    try:
        assert reader.wait_for("mdeploy: api is ready at ", timeout=60), proc.stderr.read() if proc.poll() else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            assert json.load(response) == {"ok": True}
        code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGINT)
        assert (code, survivors) == (130, set())
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
