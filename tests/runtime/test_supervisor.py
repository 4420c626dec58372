"""The engine supervisor against real processes: readiness, fail-fast, and no process left behind
— after a stop, after the engine's own exit, and after its parent's SIGTERM, SIGINT or SIGKILL —
with an engine that forks the kinds of descendants real ones do (tests/runtime/forking_engine.py).

Processes are checked by a bounded number of looks, never by elapsed time.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.runtime.supervisor import EngineExitedEarly, EngineNotReady, EngineStartError, Supervisor, probe
from tests.support import processes

HERE = Path(__file__).parent
REPO = HERE.parents[1]
FORKING_ENGINE = HERE / "forking_engine.py"
PARENT = HERE / "supervised_parent.py"
HTTP_ENGINE = REPO / "tests" / "modal_backend" / "fake_engine.py"
DESCENDANTS = ("engine", "worker", "stubborn", "nested", "session", "daemon")
# The stubborn workers ignore SIGTERM: each stop waits the whole grace period for them.
GRACE_S = 0.5

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="process checks read /proc (Linux)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _forking_engine(pids_file: Path, port: int, *extra: str) -> list[str]:
    return [sys.executable, str(FORKING_ENGINE), "--pids", str(pids_file), "--port", str(port), *extra]


def _read_pids(pids_file: Path, checks: int = 400) -> dict[str, int]:
    for _ in range(checks):
        if pids_file.exists():
            return json.loads(pids_file.read_text())
        time.sleep(0.05)
    raise AssertionError(f"the forking engine never wrote {pids_file}")


def _wait_for_line(lines: list[str], wanted: str, checks: int = 400) -> None:
    for _ in range(checks):
        if wanted in lines:
            return
        time.sleep(0.05)
    raise AssertionError(f"no {wanted!r} in the output: {lines}")


@pytest.fixture
def engine_tree(tmp_path):
    """A supervised forking engine, ready, with the pids of its whole tree; stopped afterwards."""
    port, pids_file = _free_port(), tmp_path / "pids.json"
    engine = Supervisor(_forking_engine(pids_file, port), log=lambda _line: None, grace_s=GRACE_S)
    engine.start()
    try:
        engine.wait_ready(f"http://127.0.0.1:{port}/health", 60, interval_s=0.05)
        pids = _read_pids(pids_file)
        yield engine, pids
    finally:
        engine.stop()


def test_the_forking_engine_starts_every_kind_of_descendant(engine_tree):
    engine, pids = engine_tree
    assert sorted(pids) == sorted(DESCENDANTS)
    assert processes.alive(set(pids.values())) == set(pids.values())
    # The escapees really escaped: their own sessions, not the engine's group.
    groups = processes.process_groups({pids["session"], pids["daemon"]})
    assert engine.pid not in groups and len(groups) == 2


def test_stop_leaves_no_process_of_the_tree(engine_tree):
    engine, pids = engine_tree
    code = engine.stop()
    assert code == -signal.SIGTERM  # the engine's own status, through the watchdog
    assert processes.survivors({*pids.values(), engine.pid}) == set()


def test_engine_exiting_before_ready_fails_fast_with_its_last_output_and_leaves_nothing(tmp_path):
    pids_file = tmp_path / "pids.json"
    engine = Supervisor(
        _forking_engine(pids_file, _free_port(), "--exit-before-ready", "3"), log=lambda _l: None, grace_s=GRACE_S
    )
    engine.start()
    # A clock that never moves: only the engine's exit can end this wait.
    with pytest.raises(
        EngineExitedEarly,
        match=r"exited with code 3 before http://127.0.0.1:9/health was ready(.|\n)*CUDA out of memory",
    ) as failure:
        engine.wait_ready("http://127.0.0.1:9/health", 60, interval_s=0.05, clock=lambda: 0.0)
    assert failure.value.code == 3
    assert failure.value.last_line == "CUDA out of memory"
    pids = _read_pids(pids_file)
    # The workers it left behind went with it, before the failure was reported.
    assert processes.alive({*pids.values(), engine.pid}) == set()


@pytest.fixture
def supervised_parent(tmp_path):
    """Start tests/runtime/supervised_parent.py with a stop grace; returns (parent, pids of its tree
    by name, the watchdog included) once the engine is ready."""
    started = []

    def start(grace_s: float):
        pids_file = tmp_path / "pids.json"
        parent = subprocess.Popen(
            [sys.executable, str(PARENT), str(pids_file), str(_free_port()), str(grace_s)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(parent)
        reader = processes.LineReader(parent.stdout)
        ready = reader.wait_for("ready ", timeout=60)
        assert ready, f"the supervised engine did not become ready: {reader.seen}"
        pids = {**_read_pids(pids_file), "watchdog": int(ready.split()[1])}
        assert processes.alive(set(pids.values())) == set(pids.values())
        return parent, pids

    yield start
    for parent in started:
        if parent.poll() is None:
            processes.kill_tree(parent)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_parent_ended_by_a_signal_leaves_no_process_behind(supervised_parent, sig):
    parent, pids = supervised_parent(GRACE_S)
    parent.send_signal(sig)
    parent.wait(timeout=60)
    assert processes.survivors(set(pids.values())) == set()


def test_a_second_signal_during_the_stop_skips_the_grace_period(supervised_parent):
    # A grace period far longer than the looks below: only the second signal can end it in time.
    parent, pids = supervised_parent(600)
    parent.send_signal(signal.SIGTERM)
    # The engine obeys SIGTERM, its stubborn workers do not: the stop is waiting on them.
    assert processes.survivors({pids["engine"]}) == set()
    assert processes.alive({pids["stubborn"], pids["daemon"]}) == {pids["stubborn"], pids["daemon"]}
    parent.send_signal(signal.SIGTERM)
    parent.wait(timeout=60)
    assert processes.survivors(set(pids.values())) == set()


def test_readiness_waits_until_health_answers(tmp_path):
    port = _free_port()
    argv = [sys.executable, str(HTTP_ENGINE), str(port), str(tmp_path / "log"), "1.0"]
    with Supervisor(argv, log=lambda _line: None) as engine:
        took = engine.wait_ready(f"http://127.0.0.1:{port}/health", 30, interval_s=0.1)
        assert took >= 1.0


def test_readiness_fails_fast_with_last_output_when_process_exits():
    engine = Supervisor([sys.executable, "-c", "print('CUDA out of memory'); raise SystemExit(3)"], log=lambda _l: None)
    engine.start()
    with pytest.raises(EngineStartError, match=r"exited with code 3(.|\n)*CUDA out of memory"):
        engine.wait_ready("http://127.0.0.1:9/health", 60, interval_s=0.1, clock=lambda: 0.0)


def test_readiness_times_out_when_server_never_answers():
    argv = [sys.executable, "-c", "import time; print('loading', flush=True); time.sleep(60)"]
    with Supervisor(argv, log=lambda _line: None) as engine:
        with pytest.raises(EngineNotReady, match=r"not ready after 1s(.|\n)*loading"):
            engine.wait_ready(f"http://127.0.0.1:{_free_port()}/health", 1, interval_s=0.1)


def test_stop_escalates_to_sigkill_after_grace_period():
    script = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)\n"
    lines: list[str] = []
    engine = Supervisor([sys.executable, "-c", script], log=lines.append, grace_s=0.5)
    engine.start()
    _wait_for_line(lines, "ready")
    assert engine.stop() == -signal.SIGKILL


def test_output_reaches_the_log_and_a_bounded_tail():
    script = "for i in range(100): print(f'line {i}')\nprint('x' * 20000)\n"
    lines: list[str] = []
    engine = Supervisor([sys.executable, "-c", script], log=lines.append)
    engine.start()
    assert engine.wait() == 0
    assert lines[:100] == [f"line {i}" for i in range(100)]
    assert max(len(line) for line in lines) <= 8192  # one long line arrives in pieces
    assert "".join(lines[100:]) == "x" * 20000
    assert len(engine.tail) == 40 and engine.tail[-1] == lines[-1]


def test_a_failing_log_does_not_stop_the_engine_output_being_drained():
    def broken_log(_line: str) -> None:
        raise BrokenPipeError

    # 200 KB of output: more than a pipe holds (64 KiB), so an undrained pipe would block the engine.
    script = "for _ in range(200): print('y' * 1000)"
    engine = Supervisor([sys.executable, "-c", script], log=broken_log)
    engine.start()
    try:
        for _ in range(400):
            if engine.poll() is not None:
                break
            time.sleep(0.05)
        assert engine.poll() == 0, "the engine blocked on its output"
    finally:
        engine.stop()


def test_missing_executable_is_a_start_error():
    with pytest.raises(EngineStartError, match=r"cannot start `no-such-engine`: 'no-such-engine' not found on PATH"):
        Supervisor(["no-such-engine", "serve"], log=lambda _line: None).start()


def test_executable_that_cannot_run_exits_127_saying_why(tmp_path):
    not_executable = tmp_path / "engine"
    not_executable.write_text("#!/bin/sh\n")
    lines: list[str] = []
    engine = Supervisor([str(not_executable)], log=lines.append)
    engine.start()
    assert engine.wait() == 127
    assert lines == [f"mdeploy: cannot run {not_executable}: Permission denied"]


def test_engine_sees_its_own_argv0_stdin_closed_and_default_signals():
    lines: list[str] = []
    # Looked up on PATH, as the container runs `vllm`: the engine sees the name, not the path.
    script = 'echo "$0"; read line || echo eof; grep SigIgn /proc/$$/status'
    engine = Supervisor(["sh", "-c", script], log=lines.append)
    engine.start()
    assert engine.wait() == 0
    assert lines[:2] == ["sh", "eof"]
    ignored = int(lines[2].split()[1], 16)
    # Python ignores SIGPIPE and SIGXFSZ; the engine must not inherit that.
    assert ignored & (1 << (signal.SIGPIPE - 1)) == 0
    assert ignored & (1 << (signal.SIGXFSZ - 1)) == 0


def test_probe_readiness_rules(tmp_path):
    port = _free_port()
    argv = [sys.executable, str(HTTP_ENGINE), str(port), str(tmp_path / "log"), "3600"]  # 503 for an hour
    with Supervisor(argv, log=lambda _line: None) as engine:
        url = f"http://127.0.0.1:{port}/health"
        for _ in range(400):
            if probe(url, any_answer=True):
                break
            time.sleep(0.05)
        assert engine.poll() is None
        assert probe(url, any_answer=True)  # a web app: any HTTP answer means it is up
        assert not probe(url)  # a health route: only 2xx means ready
    assert not probe(url, any_answer=True)  # nothing listens any more
