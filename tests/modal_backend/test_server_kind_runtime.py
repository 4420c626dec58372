"""A `kind: server`'s container start (EngineLauncher, driven from the Blueprint as in the
container), against the stand-in server of tests/support: the command run as planned, readiness
by the server's own rule, the warm-up judged by its expected status and `fatal`."""

from __future__ import annotations

import dataclasses
import socket
import sys
from pathlib import Path

import pytest

from engine.blueprint.model import ContainerSpec, ServerSpec, WarmupSpec
from engine.blueprint.server_command import fill_command
from engine.modal_backend.server_runtime import EngineLauncher, ServerStartError
from engine.modal_backend.servers import make_server_class
from engine.runtime.supervisor import EngineNotReady

STAND_IN = Path(__file__).resolve().parents[1] / "support" / "stand_in_server.py"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spec(port: int, *extra: str, **fields) -> ServerSpec:
    template = (sys.executable, str(STAND_IN), "--port", "${PORT}", "--hostname", "${HOST}", *extra)
    return ServerSpec(
        key="embed",
        symbol="Embed",
        name="embed",
        engine="",
        model="",
        served_model_name="",
        container=ContainerSpec(image="i"),
        command=fill_command(template, port=port, host="127.0.0.1"),
        command_template=template,
        port=port,
        startup_timeout=30,
        kind="server",
        **fields,
    )


def _start(spec: ServerSpec, monkeypatch, log: Path) -> EngineLauncher:
    monkeypatch.setenv("STAND_IN_LOG", str(log))
    launcher = EngineLauncher(spec)
    launcher.start()
    return launcher


def test_the_command_starts_and_the_warm_up_is_sent_as_planned(tmp_path, monkeypatch, capsys):
    warmup = WarmupSpec(path="/embed", body='{"inputs": "x"}', requests=3, status=200)
    launcher = _start(_spec(_free_port(), warmup=warmup), monkeypatch, tmp_path / "log")
    launcher.stop()
    lines = (tmp_path / "log").read_text().splitlines()
    assert lines[-3:] == ["POST /embed"] * 3
    out = capsys.readouterr().out
    assert "mdeploy: starting command 'embed': " in out and "warm-up done: 3/3" in out


def test_a_fatal_warm_up_fails_the_start_and_stops_the_server(tmp_path, monkeypatch):
    spec = _spec(_free_port(), "--embed-status", "500", warmup=WarmupSpec(path="/embed", body="{}"))
    launcher = EngineLauncher(spec)
    monkeypatch.setenv("STAND_IN_LOG", str(tmp_path / "log"))
    with pytest.raises(ServerStartError, match="answered 500"):
        launcher.start()
    assert launcher.process is None  # stopped: a failed enter frees the container at once


def test_a_non_fatal_warm_up_failure_is_logged_and_the_server_runs(tmp_path, monkeypatch, capsys):
    warmup = WarmupSpec(path="/embed", body="{}", requests=2, fatal=False)
    launcher = _start(_spec(_free_port(), "--embed-status", "500", warmup=warmup), monkeypatch, tmp_path / "log")
    try:
        assert launcher.process is not None and launcher.process.poll() is None
    finally:
        launcher.stop()
    assert capsys.readouterr().out.count("serving anyway") == 2


def test_readiness_on_any_answer_accepts_a_health_path_that_answers_404(tmp_path, monkeypatch):
    port = _free_port()
    strict = dataclasses.replace(_spec(port, "--health-status", "404"), startup_timeout=2)
    with pytest.raises(EngineNotReady):
        _start(strict, monkeypatch, tmp_path / "log")
    lenient = dataclasses.replace(strict, ready_on_any_answer=True, startup_timeout=30)
    _start(lenient, monkeypatch, tmp_path / "log").stop()


def test_the_server_class_describes_the_command():
    cls = make_server_class(_spec(8080), "entry")
    assert cls.__doc__ == f"mdeploy server 'embed': {sys.executable} on port 8080"
