"""The engine process inside a server container: launch, readiness, warm-up, snapshot sleep/wake,
stop — driven against a real local HTTP server (tests/modal_backend/fake_engine.py). The
supervisor underneath (readiness rules, fail-fast, stopping the whole tree) has its own tests in
tests/runtime/test_supervisor.py."""

from __future__ import annotations

import dataclasses
import socket
import sys
from pathlib import Path

import pytest

from engine.blueprint.model import SecretArg
from engine.modal_backend import server_runtime
from engine.modal_backend.server_runtime import EngineLauncher, ServerStartError
from engine.modal_backend.servers import make_server_class
from engine.runtime.supervisor import EngineExitedEarly
from tests.modal_backend.blueprints import vllm_server

FAKE_ENGINE = Path(__file__).with_name("fake_engine.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_secret_arguments_are_appended_from_the_environment():
    argv = server_runtime.resolve_argv(["serve"], [SecretArg("--api-key", "API_KEY")], {"API_KEY": "k-123"})
    assert argv == ["serve", "--api-key", "k-123"]


def test_missing_secret_environment_variable_names_flag_and_variable():
    with pytest.raises(ServerStartError, match=r"--api-key needs \$API_KEY"):
        server_runtime.resolve_argv(["serve"], [SecretArg("--api-key", "API_KEY")], {})


def test_displayed_command_shows_variable_not_secret_value():
    shown = server_runtime.display_command(["serve"], [SecretArg("--api-key", "API_KEY")])
    assert shown == "serve --api-key $API_KEY"


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
    from modal._partial_function import _find_callables_for_obj
    from modal._partial_function import _PartialFunctionFlags as Flags

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


def test_launcher_whose_engine_dies_during_startup_reports_its_output_and_keeps_nothing(tmp_path, capsys):
    spec = dataclasses.replace(
        _fake_vllm_spec(_free_port(), tmp_path / "requests.log"),
        command=(sys.executable, "-c", "print('CUDA out of memory'); raise SystemExit(3)"),
        secret_args=(),
    )
    launcher = EngineLauncher(spec)
    with pytest.raises(EngineExitedEarly, match=r"exited with code 3(.|\n)*CUDA out of memory"):
        launcher.start()
    assert launcher.process is None  # stopped on the way out of the failed enter
    assert "CUDA out of memory" in capsys.readouterr().out  # passed through to the container log
