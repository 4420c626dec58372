"""`mdeploy serve` through the real CLI, with the fake OpenAI server standing in for an engine."""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from engine.blueprint.codec import to_json

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mdeploy_support_processes", REPO / "tests/support/processes.py")
processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(processes)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(tmp_path, bp, server):
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(servers=[server])))
    return path


def _serve(path, *args, cwd):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("MODAL_ENVIRONMENT", None)
    return subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", str(path), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def served(bp, tmp_path):
    path = _write(tmp_path, bp, bp.fake_engine_server())
    port = _free_port()
    proc = _serve(path, "--port", str(port), cwd=tmp_path)
    reader = processes.LineReader(proc.stdout)
    line = reader.wait_for("OpenAI base URL: ", timeout=30)
    try:
        assert line, f"serve did not become ready: {proc.stderr.read() if proc.poll() is not None else ''}"
        yield proc, line.split(": ", 1)[1], reader
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)


def test_serve_prints_base_url_and_model_and_answers(served):
    proc, base_url, reader = served
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    assert reader.wait_for("model: ", timeout=5) == "model: fake-model"
    with urllib.request.urlopen(base_url + "/models", timeout=5) as response:
        assert json.load(response)["data"][0]["id"] == "fake-model"


def test_sigint_stops_the_engine_process_group(served):
    proc, _, _ = served
    code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGINT)
    assert code == 130
    assert survivors == set()


def test_sigterm_stops_the_engine_process_group(served):
    proc, _, _ = served
    code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert survivors == set()


def _failed_serve(bp, tmp_path, run_mdeploy, server, *args):
    path = _write(tmp_path, bp, server)
    done = run_mdeploy("serve", str(path), *args, cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _last_error(bp, tmp_path, run_mdeploy, server, *args):
    return _failed_serve(bp, tmp_path, run_mdeploy, server, *args).strip().splitlines()[-1]


def test_port_in_use_is_one_clear_line(bp, tmp_path, run_mdeploy):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _last_error(bp, tmp_path, run_mdeploy, bp.fake_engine_server(), "--port", str(port))
    assert line == f"error: port {port} on 127.0.0.1 is already in use: stop what listens there or pass --port"


def test_port_in_use_is_reported_before_any_starting_line(bp, tmp_path, run_mdeploy):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        stderr = _failed_serve(bp, tmp_path, run_mdeploy, bp.fake_engine_server(), "--port", str(port))
    assert "already in use" in stderr
    assert "starting" not in stderr


@pytest.mark.parametrize("port", ["0", "70000", "-1"])
def test_port_outside_the_tcp_range_is_one_clear_line(bp, tmp_path, run_mdeploy, port):
    line = _last_error(bp, tmp_path, run_mdeploy, bp.fake_engine_server(), "--port", port)
    assert line == f"error: port {port} is not a TCP port: pass --port between 1 and 65535"


def test_missing_engine_executable_is_one_clear_line(bp, tmp_path, run_mdeploy):
    server = bp.server(engine="transformers", command=("no-such-engine-binary", "serve", "m"))
    line = _last_error(bp, tmp_path, run_mdeploy, server, "--port", str(_free_port()))
    assert line.startswith("error: engine executable 'no-such-engine-binary' not found on PATH")


def test_engine_exiting_during_startup_is_one_clear_line(bp, tmp_path, run_mdeploy):
    command = (sys.executable, "-c", "import sys; print('loading'); print('CUDA out of memory'); sys.exit(3)")
    server = bp.server(engine="transformers", command=command)
    line = _last_error(bp, tmp_path, run_mdeploy, server, "--port", str(_free_port()))
    assert line == "error: the engine exited with code 3 during start-up; its last log line: CUDA out of memory"


def test_engine_not_ready_within_startup_timeout_is_one_clear_line(bp, tmp_path, run_mdeploy):
    command = (sys.executable, "-c", "import time; time.sleep(60)")
    server = bp.server(engine="transformers", command=command, startup_timeout=1)
    line = _last_error(bp, tmp_path, run_mdeploy, server, "--port", str(_free_port()))
    assert line.startswith("error: the engine was not ready at http://127.0.0.1:")


def test_unknown_service_lists_the_services(bp, tmp_path, run_mdeploy):
    line = _last_error(bp, tmp_path, run_mdeploy, bp.fake_engine_server(), "nope")
    assert line == "error: manifests/demo.yaml has no service 'nope' (services: chat)"


def test_web_service_runs_under_uvicorn(bp, tmp_path):
    (tmp_path / "webapp.py").write_text(
        "async def app(scope, receive, send):\n"
        "    if scope['type'] != 'http':\n"
        "        return\n"
        "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
        "    await send({'type': 'http.response.body', 'body': b'hello from asgi'})\n"
    )
    function = bp.function(key="api", handler="webapp:app", web=bp.WebSpec(kind="asgi_app"))
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(functions=[function])))
    port = _free_port()
    proc = _serve(path, "api", "--port", str(port), cwd=tmp_path)
    reader = processes.LineReader(proc.stdout)
    try:
        assert reader.wait_for("mdeploy: api is ready at ", timeout=30), proc.stderr.read() if proc.poll() else ""
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert response.read() == b"hello from asgi"
        code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGINT)
        assert (code, survivors) == (130, set())
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_serve_ended_by_a_signal_leaves_no_descendant_of_the_engine(bp, tmp_path, sig):
    # An engine whose workers leave its process group, even its session, and one orphaned at
    # birth; SIGKILL gives serve no chance to stop anything itself.
    pids_file = tmp_path / "pids.json"
    forking = REPO / "tests" / "runtime" / "forking_engine.py"
    command = (sys.executable, str(forking), "--pids", str(pids_file), "--obedient", "--port", "8000")
    path = _write(tmp_path, bp, bp.server(engine="transformers", command=command))
    proc = _serve(path, "--port", str(_free_port()), cwd=tmp_path)
    reader = processes.LineReader(proc.stdout)
    try:
        assert reader.wait_for("mdeploy: chat is ready at ", timeout=60), proc.stderr.read() if proc.poll() else ""
        tree = processes.descendants(proc.pid) | set(json.loads(pids_file.read_text()).values())
        assert processes.alive(tree) == tree
        proc.send_signal(sig)
        proc.wait(timeout=60)
        assert processes.survivors(tree) == set()
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)


def test_engine_installed_beside_this_python_is_found_without_path(tmp_path):
    from engine.local.process import find_executable

    python_name = Path(sys.executable).name
    assert find_executable(python_name, str(tmp_path)) == str(Path(sys.executable).parent / python_name)
