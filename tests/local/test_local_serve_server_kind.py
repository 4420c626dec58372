"""`mdeploy serve` of a `kind: server` through the real CLI: a stand-in embeddings server
(tests/support/stand_in_server.py) listening on the `${PORT}` the runner fills, its health path
waited for, its warm-up sent (and judged) before serve says it is ready."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import replace
from pathlib import Path

from engine.blueprint.codec import to_json
from engine.errors import UserError
from engine.local.launch import machine_has_gpu
from engine.local.service import prepare_launch
from engine.local.source import load_blueprint

REPO = Path(__file__).resolve().parents[2]
STAND_IN = REPO / "tests/support/stand_in_server.py"
_spec = importlib.util.spec_from_file_location("mdeploy_support_processes_server", REPO / "tests/support/processes.py")
processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(processes)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manifest(tmp_path: Path, *, extra_args: str = "", warmup: str = "") -> Path:
    log = tmp_path / "requests.log"
    warmup = warmup or "{path: /embed, body: {inputs: [a, b]}, status: 200, requests: 2}"
    path = tmp_path / "embed.yaml"
    path.write_text(
        f"""version: 1
app: stand-in
images:
  stand:
    python: "3.12"
services:
  embed:
    kind: server
    image: stand
    gpu: L4
    command: [{json.dumps(sys.executable)}, {json.dumps(str(STAND_IN))}, --port, "${{PORT}}", --hostname, "${{HOST}}"{extra_args}]
    port: 8080
    env:
      STAND_IN_LOG: {json.dumps(str(log))}
    startup_timeout: 60s
    warmup: {warmup}
""",
        encoding="utf-8",
    )
    return path


def _serve(manifest: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("MODAL_ENVIRONMENT", None)
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", str(manifest), "--port", str(port)],
        cwd=manifest.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_fills_the_port_waits_for_health_and_warms_up_before_ready(tmp_path):
    port = _free_port()
    proc = _serve(_manifest(tmp_path), port)
    reader = processes.LineReader(proc.stdout)
    try:
        ready = reader.wait_for("mdeploy: embed is ready at ", timeout=60)
        assert ready, proc.stderr.read() if proc.poll() is not None else "not ready"
        assert f"http://127.0.0.1:{port}" in ready
        # The warm-up ran before the ready line: two POSTs to /embed after the health probe.
        lines = (tmp_path / "requests.log").read_text().splitlines()
        assert lines[0] == "GET /health" and lines[-2:] == ["POST /embed", "POST /embed"]
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/embed", data=b'{"inputs": ["x"]}', headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.load(response) == [[0.1, 0.2, 0.3]]
        code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGINT)
        assert (code, survivors) == (130, set())
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
    stderr = proc.stderr.read()
    assert machine_has_gpu() or "asks for GPU L4 and this machine has none" in stderr
    assert "warm-up done: 2/2 × POST /embed as expected" in stderr


def test_a_fatal_warm_up_failure_stops_serve_with_one_line_and_no_traceback(tmp_path):
    manifest = _manifest(tmp_path, extra_args=', "--embed-status", "503"')
    proc = _serve(manifest, _free_port())
    try:
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
    assert proc.returncode != 0
    assert "error: warm-up request 1/2 POST " in stderr and "answered 503, not 200" in stderr
    assert "set warmup.fatal: false to serve anyway" in stderr and "Traceback" not in stderr


def test_a_non_fatal_warm_up_failure_is_logged_and_the_server_serves(tmp_path):
    warmup = "{path: /embed, body: {inputs: a}, fatal: false}"
    proc = _serve(_manifest(tmp_path, extra_args=', "--embed-status", "503"', warmup=warmup), _free_port())
    reader = processes.LineReader(proc.stdout)
    try:
        assert reader.wait_for("mdeploy: embed is ready at ", timeout=60)
        code, _ = processes.interrupt_and_check_gone(proc, signal.SIGINT)
        assert code == 130
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
    assert "warmup.fatal is false: serving anyway" in proc.stderr.read()


def _blueprint(tmp_path: Path, command: str):
    path = tmp_path / "fixed.yaml"
    path.write_text(
        "version: 1\napp: fixed\nimages: {i: {}}\nservices:\n  s:\n    kind: server\n    image: i\n"
        f"    command: {command}\n    port: 9000\n",
        encoding="utf-8",
    )
    return load_blueprint(str(path), None)


def test_a_port_fixed_in_the_command_cannot_move(tmp_path):
    blueprint = _blueprint(tmp_path, '["srv", "--port", "9000"]')
    common = dict(workdir=tmp_path, environ={}, dotenv_path=tmp_path / ".env", has_gpu=False)
    try:
        prepare_launch(blueprint, None, port=9001, **common)
    except UserError as exc:
        assert "fixed in its command (no ${PORT})" in str(exc)
    else:
        raise AssertionError("expected a UserError")
    assert prepare_launch(blueprint, None, port=9000, **common).argv == ("srv", "--port", "9000")


def test_the_local_address_fills_host_and_port_and_dollar_dollar_is_a_dollar(tmp_path):
    blueprint = _blueprint(tmp_path, '["sh", "-c", "srv --bind ${HOST}:${PORT} --home $$HOME"]')
    assert blueprint.servers[0].command == ("sh", "-c", "srv --bind 0.0.0.0:9000 --home $HOME")
    common = dict(workdir=tmp_path, environ={}, dotenv_path=tmp_path / ".env", has_gpu=False)
    launch = prepare_launch(blueprint, None, port=9100, host="127.0.0.1", **common)
    assert launch.argv == ("sh", "-c", "srv --bind 127.0.0.1:9100 --home $HOME")
    assert launch.kind == "server" and launch.served_model is None and launch.health_path == "/health"


def test_the_shipped_tei_manifest_serves_with_only_its_executable_replaced(tmp_path):
    """manifests/embeddings-tei.yaml as planned (its flags, port placeholder, health path and
    warm-up), served through the CLI as a Blueprint file with text-embeddings-router swapped for
    the stand-in, which takes the same flags."""
    blueprint = load_blueprint(str(REPO / "manifests/embeddings-tei.yaml"), None)
    server = blueprint.servers[0]
    assert server.command_template[0] == "text-embeddings-router"
    log = tmp_path / "requests.log"
    stand_in = replace(
        server,
        command_template=(sys.executable, str(STAND_IN), *server.command_template[1:]),
        container=replace(server.container, env={**server.container.env, "STAND_IN_LOG": str(log)}),
    )
    path = tmp_path / "embeddings-tei.blueprint.json"
    path.write_text(to_json(replace(blueprint, servers=(stand_in,))), encoding="utf-8")
    proc = _serve(path, _free_port())
    reader = processes.LineReader(proc.stdout)
    try:
        assert reader.wait_for("mdeploy: embed is ready at ", timeout=60), proc.stderr.read()
        code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGINT)
        assert (code, survivors) == (130, set())
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
    assert log.read_text().splitlines()[-2:] == ["POST /embed", "POST /embed"]  # warmup.requests: 2
