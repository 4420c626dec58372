"""The engine process inside a server container: launch, readiness, warm-up, snapshot sleep/wake,
stop — driven against a real local HTTP server (tests/modal_backend/fake_engine.py)."""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from engine.blueprint.model import SecretArg
from engine.modal_backend import server_runtime
from engine.modal_backend.server_runtime import EngineLauncher, ServerStartError
from engine.modal_backend.servers import make_server_class
from tests.modal_backend.blueprints import vllm_server

FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(argv):
    return server_runtime.launch(argv, shown_as=" ".join(argv))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_secret_arguments_are_appended_from_the_environment():
    argv = server_runtime.resolve_argv(["serve"], [SecretArg("--api-key", "API_KEY")], {"API_KEY": "k-123"})
    assert argv == ["serve", "--api-key", "k-123"]


def test_missing_secret_environment_variable_names_flag_and_variable():
    with pytest.raises(ServerStartError, match=r"--api-key needs \$API_KEY"):
        server_runtime.resolve_argv(["serve"], [SecretArg("--api-key", "API_KEY")], {})


def test_displayed_command_shows_variable_not_secret_value():
    shown = server_runtime.display_command(["serve"], [SecretArg("--api-key", "API_KEY")])
    assert shown == "serve --api-key $API_KEY"


def test_readiness_waits_until_health_answers(tmp_path):
    port = _free_port()
    process = _launch([sys.executable, str(FAKE_ENGINE), str(port), str(tmp_path / "log"), "1.0"])
    try:
        took = server_runtime.wait_until_ready(process, f"http://127.0.0.1:{port}/health", 30, interval_s=0.1)
        assert took >= 1.0
    finally:
        server_runtime.terminate(process, grace_s=5)


def test_readiness_fails_fast_with_last_output_when_process_exits():
    process = _launch([sys.executable, "-c", "print('CUDA out of memory'); raise SystemExit(3)"])
    started = time.monotonic()
    with pytest.raises(ServerStartError, match=r"exited with code 3(.|\n)*CUDA out of memory"):
        server_runtime.wait_until_ready(process, "http://127.0.0.1:9/health", 60, interval_s=0.1)
    assert time.monotonic() - started < 10


def test_readiness_times_out_when_server_never_answers():
    process = _launch([sys.executable, "-c", "import time; print('loading', flush=True); time.sleep(60)"])
    try:
        with pytest.raises(ServerStartError, match=r"not ready after 1s(.|\n)*loading"):
            server_runtime.wait_until_ready(process, f"http://127.0.0.1:{_free_port()}/health", 1, interval_s=0.1)
    finally:
        server_runtime.terminate(process, grace_s=5)


def test_terminate_stops_the_whole_process_group(tmp_path):
    child_pid_file = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(child_pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    process = _launch([sys.executable, "-c", script])
    deadline = time.monotonic() + 10
    while not child_pid_file.exists() or not child_pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child_pid = int(child_pid_file.read_text())
    server_runtime.terminate(process, grace_s=5)
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)


def test_terminate_escalates_to_sigkill_after_grace_period():
    script = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)\n"
    process = _launch([sys.executable, "-c", script])
    deadline = time.monotonic() + 10
    while "ready" not in process.log_tail and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    code = server_runtime.terminate(process, grace_s=0.5)
    assert code == -9
    assert time.monotonic() - started < 5


def _fake_vllm_spec(port: int, log: Path):
    spec = vllm_server().servers[0]
    return dataclasses.replace(
        spec,
        command=(sys.executable, str(FAKE_ENGINE), str(port), str(log), "0.3"),
        port=port,
        startup_timeout=30,
    )


def test_snapshot_launcher_starts_warms_sleeps_then_wakes(tmp_path, monkeypatch):
    port, log = _free_port(), tmp_path / "requests.log"
    monkeypatch.setenv("API_KEY", "k-123")
    launcher = EngineLauncher(_fake_vllm_spec(port, log))
    try:
        launcher.start()
        launcher.sleep()
        launcher.wake()
    finally:
        launcher.stop()
    posts = [line for line in log.read_text().splitlines() if line.startswith("POST")]
    assert posts == [
        "POST /v1/chat/completions",
        "POST /v1/chat/completions",
        "POST /sleep?level=1",
        "POST /wake_up",
    ]
    assert "GET /health" in log.read_text()


def test_launcher_passes_secret_argument_to_the_engine(tmp_path, monkeypatch, capsys):
    port = _free_port()
    monkeypatch.setenv("API_KEY", "k-123")
    launcher = EngineLauncher(_fake_vllm_spec(port, tmp_path / "requests.log"))
    try:
        launcher.start()
    finally:
        launcher.stop()
    output = capsys.readouterr().out
    assert "with args ['0.3', '--api-key', 'k-123']" in output  # the engine got it
    assert "--api-key $API_KEY" in output  # our own log line shows the variable only


def test_server_class_lifecycle_hooks_run_the_engine_as_modal_calls_them(tmp_path, monkeypatch):
    # As the container does (_find_callables_for_obj): the pre-snapshot enter, then the restored
    # container's enter, then exit, each bound to one instance of the generated class.
    from modal._partial_function import _find_callables_for_obj, _PartialFunctionFlags as Flags

    port, log = _free_port(), tmp_path / "requests.log"
    monkeypatch.setenv("API_KEY", "k-123")
    cls = make_server_class(_fake_vllm_spec(port, log), "entry")
    instance = cls()
    for flag in (Flags.ENTER_PRE_SNAPSHOT, Flags.ENTER_POST_SNAPSHOT, Flags.EXIT):
        for hook in _find_callables_for_obj(instance, flag).values():
            hook()
    posts = [line for line in log.read_text().splitlines() if line.startswith("POST")]
    assert posts[-2:] == ["POST /sleep?level=1", "POST /wake_up"]
    assert instance._mdeploy_launcher.process is None  # exit stopped it
