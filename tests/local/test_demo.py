"""`mdeploy demo` when something goes wrong: one `error:` line, a non-zero exit, no traceback, no
engine left running, nothing half-written. (That it works end to end, as the README's main job,
is tests/test_readme.py's.)

The CLI runs in a copy of the shipped manifests (its own project root, so `.mdeploy/` is the
test's); the engine-starting cases run the real `transformers serve`, as a newcomer's demo does.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.errors import UserError
from engine.local import demo
from tests.support import processes
from tests.support.fake_http import FakeEndpoint

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, root / name)
    (root / "pyproject.toml").write_text("")  # the project root: `.mdeploy/` goes here
    return root


def _env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    for var in ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK", "MDEPLOY_LOCAL_MODEL", "HF_HOME"):
        env.pop(var, None)
    return env


def _demo(project, tmp_path, *args, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "engine", "demo", *args],
        cwd=project,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _one_error(done) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def _model_folder(project) -> Path:
    return project / ".mdeploy" / "models" / "tiny-chat"


def _served_port(done) -> int:
    line = next(line for line in done.stdout.splitlines() if line.startswith("3. serve"))
    return int(line.rsplit("--port ", 1)[1])


def _nothing_listens(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_max_tokens_below_one_is_refused(project, tmp_path):
    error = _one_error(_demo(project, tmp_path, "--max-tokens", "0"))
    assert error == "error: --max-tokens must be at least 1, got 0"
    assert not (project / ".mdeploy").exists()


def test_a_busy_port_is_one_line_before_the_model_is_written(project, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        error = _one_error(_demo(project, tmp_path, "--port", str(port)))
    assert error == f"error: port {port} on 127.0.0.1 is already in use: stop what listens there or pass --port"
    assert not _model_folder(project).exists()


def test_port_zero_is_not_a_port(project, tmp_path):
    error = _one_error(_demo(project, tmp_path, "--port", "0"))
    assert "port 0 is not a TCP port" in error


def test_a_model_folder_holding_something_else_is_left_alone(project, tmp_path):
    folder = _model_folder(project)
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine")
    error = _one_error(_demo(project, tmp_path))
    assert "the plan's model folder .mdeploy/models/tiny-chat is a folder with files but no config.json" in error
    assert sorted(p.name for p in folder.parent.iterdir()) == ["tiny-chat"]  # no partial model beside it
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_an_engine_that_cannot_load_the_model_is_one_line_and_is_stopped(project, tmp_path):
    """A model folder there already but broken: the real engine exits during start-up."""
    folder = _model_folder(project)
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "llama"}')
    done = _demo(project, tmp_path)
    error = _one_error(done)
    assert error.startswith("error: the engine exited with code ")
    assert error.endswith(
        "(the engine is stopped; its log: .mdeploy/logs/chat.log; .mdeploy/models/tiny-chat was there already: "
        "delete it and the demo writes a fresh tiny model)"
    )
    assert "2. model  .mdeploy/models/tiny-chat is there already" in done.stdout
    assert (project / ".mdeploy" / "logs" / "chat.log").read_text().strip()  # what the engine said
    assert _nothing_listens(_served_port(done))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from engine.local.tiny_model import write_tiny_chat_model

    return write_tiny_chat_model(tmp_path_factory.mktemp("demo") / "tiny-chat")


@pytest.mark.parametrize("signum,code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, 130)])
def test_an_interrupted_demo_stops_the_engine_tree(signum, code, project, tmp_path, tiny_model):
    shutil.copytree(tiny_model, _model_folder(project))
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "demo"],
        cwd=project,
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        reader = processes.LineReader(proc.stdout)
        assert reader.wait_for("3. serve", timeout=240), proc.stderr.read() if proc.poll() is not None else reader.seen
        for _ in range(400):  # the engine is started just after that line: interrupt it while it starts
            if processes.descendants(proc.pid):
                break
            time.sleep(0.05)
        code_seen, survivors = processes.interrupt_and_check_gone(proc, signum)
        assert code_seen == code
        assert survivors == set()
        assert proc.stderr.read().strip() == "mdeploy: the demo was interrupted; nothing of it is left running"
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)


def test_outside_a_checkout_the_demo_says_where_to_run_it(tmp_path):
    with pytest.raises(
        UserError, match=r"manifests/local-chat\.yaml of an mdeploy checkout.*run it in a clone of mdeploy"
    ):
        demo.find_demo_manifest(tmp_path / "here", tmp_path / "site-packages")


def test_the_manifest_is_found_above_the_current_folder(project):
    (project / "manifests" / "nested").mkdir()
    found = demo.find_demo_manifest(project / "manifests" / "nested", REPO)
    assert found == project / "manifests" / "local-chat.yaml"


def test_the_local_extra_is_named_when_missing(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openai" else real(name, *a))
    with pytest.raises(UserError, match=r'the demo needs openai, from the local extra: pip install -e "\.\[local\]"'):
        demo._require_local_extra()


def _fake_writer(calls, *, fail=None):
    def write(directory):
        calls.append(Path(directory))
        (Path(directory) / "tokenizer.json").write_text("{}")
        if fail is not None:
            raise fail
        (Path(directory) / "config.json").write_text("{}")
        return directory

    return write


def test_the_model_is_written_beside_and_renamed_into_an_empty_folder(tmp_path, monkeypatch):
    import engine.local.tiny_model as tiny_model

    calls = []
    monkeypatch.setattr(tiny_model, "write_tiny_chat_model", _fake_writer(calls))
    folder = tmp_path / "models" / "tiny-chat"
    folder.mkdir(parents=True)  # empty: replaced
    said = demo._ensure_tiny_model(folder)
    assert said.startswith("wrote the tiny test model to ")
    assert calls[0].parent == folder.parent and calls[0] != folder
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "tokenizer.json"]
    assert [p.name for p in folder.parent.iterdir()] == ["tiny-chat"]
    assert demo._ensure_tiny_model(folder).endswith("is there already (delete it to write a fresh tiny model)")
    assert len(calls) == 1


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_an_interrupted_model_write_leaves_no_half_model(failure, tmp_path, monkeypatch):
    import engine.local.tiny_model as tiny_model

    monkeypatch.setattr(tiny_model, "write_tiny_chat_model", _fake_writer([], fail=failure))
    folder = tmp_path / "models" / "tiny-chat"
    expected = (
        pytest.raises(UserError, match="cannot write the tiny model to .*: No space left on device")
        if isinstance(failure, OSError)
        else pytest.raises(KeyboardInterrupt)
    )
    with expected:
        demo._ensure_tiny_model(folder)
    assert list(folder.parent.iterdir()) == []


def test_ask_prints_the_answer_of_a_well_behaved_server():
    with FakeEndpoint("llm") as server:
        answer = demo.ask(f"{server.url}/v1", "fake-model", "Hello?", 4)
    assert (answer.model, answer.text, answer.completion_tokens) == ("fake-model", "OK", None)
    sent = json.loads(server.requests[-1]["body"])
    assert sent == {"model": "fake-model", "messages": [{"role": "user", "content": "Hello?"}], "max_tokens": 4}


@pytest.mark.parametrize(
    "behaviour,said",
    [
        ("broken", r"the served model did not answer: InternalServerError: Error code: 500"),
        ("no-choices", r"the served model answered without a choice: POST http://127\.0\.0\.1:\d+/v1/chat/completions"),
    ],
)
def test_ask_turns_a_misbehaving_server_into_one_line(behaviour, said):
    with FakeEndpoint(behaviour) as server:
        with pytest.raises(UserError, match=said):
            demo.ask(f"{server.url}/v1", "fake-model", "Hello?", 4)
