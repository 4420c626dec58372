"""End to end, offline: a generated tiny Llama served by `transformers serve` through `mdeploy serve`.

The real path a user takes: manifests/local-chat.yaml with its `tiny` overlay (which points the
service at a folder through MDEPLOY_LOCAL_MODEL), planned by the real planner, launched by the
local runner on CPU, spoken to with the official `openai` client, load-tested with `mdeploy
bench`, and stopped with SIGINT and SIGTERM — after which no process of its tree may remain.
The manifest is a copy's, in a project of its own, and serve runs in a folder below it: local
state (.mdeploy/) belongs to the project root, not to the folder serve runs in.
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
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120  # imports of torch + transformers on two busy cores, then a 400 KB model


def _support(name):
    spec = importlib.util.spec_from_file_location(f"mdeploy_support_{name}", REPO / "tests" / "support" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


processes = _support("processes")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project holding the shipped manifests, the tiny model in a folder of its own, a working
    folder below the project, and the environment every command gets."""
    root = tmp_path_factory.mktemp("local-chat")
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, root / name)
    (root / "pyproject.toml").write_text("[project]\nname = 'local-chat-e2e'\n")
    (root / "elsewhere").mkdir()
    model = _support("tiny_model").write_tiny_chat_model(tmp_path_factory.mktemp("model") / "tiny-chat")
    env = dict(os.environ, PYTHONPATH=str(REPO), MDEPLOY_LOCAL_MODEL=str(model), HF_HUB_OFFLINE="1")
    for name in ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK", "HF_HOME"):
        env.pop(name, None)
    return root, model, env


def _start_serve(project):
    root, _, env = project
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine",
            "serve",
            "../manifests/local-chat.yaml",
            "chat",
            "--env",
            "tiny",
            "--port",
            str(port),
        ],
        cwd=root / "elsewhere",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = processes.LineReader(proc.stdout)
    line = reader.wait_for("OpenAI base URL: ", timeout=START_TIMEOUT)
    if line is None:
        processes.kill_tree(proc)
        pytest.fail(f"mdeploy serve did not become ready:\n{proc.stderr.read()[-3000:]}")
    model = reader.wait_for("model: ", timeout=5)
    return proc, line.split(": ", 1)[1], model.split(": ", 1)[1]


@pytest.fixture(scope="module")
def chat(project):
    proc, base_url, model = _start_serve(project)
    yield proc, base_url, model
    if proc.poll() is None:
        processes.kill_tree(proc)


def test_served_model_is_the_generated_folder(chat, project):
    _, base_url, model = chat
    assert base_url.startswith("http://127.0.0.1:")
    assert model == str(project[1])


def test_hf_cache_volume_is_a_folder_at_the_project_root(chat, project):
    root = project[0]
    assert (root / ".mdeploy" / "volumes" / "huggingface-cache").is_dir()
    assert not (root / "elsewhere" / ".mdeploy").exists()


def test_openai_client_plain_completion(chat):
    from openai import OpenAI

    _, base_url, model = chat
    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
    response = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello!"}], max_tokens=6
    )
    assert response.choices[0].message.role == "assistant"
    assert isinstance(response.choices[0].message.content, str)
    assert response.usage.completion_tokens == 6  # random weights never pick the stop token so soon


def test_openai_client_streaming_with_usage(chat):
    from openai import OpenAI

    _, base_url, model = chat
    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Tell me a story"}],
        max_tokens=5,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    usage = [c.usage for c in chunks if c.usage is not None]
    assert len(texts) == 5
    assert usage and usage[-1].completion_tokens == 5


def test_bench_against_the_served_model(chat, project, tmp_path):
    root, _, env = project
    _, base_url, _ = chat
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "engine",
            "bench",
            base_url,
            "--concurrency",
            "1,2",
            "--requests",
            "4",
            "--max-tokens",
            "8",
            "--output",
            str(tmp_path),
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    levels = report["levels"]
    assert [level["concurrency"] for level in levels] == [1, 2]
    assert all(level["succeeded"] == 4 and level["failed"] == 0 for level in levels)
    assert all(level["output_tokens_median"] == 8 for level in levels)
    assert (tmp_path / "latency.png").stat().st_size > 0


def test_sigint_leaves_no_process_behind(chat):
    proc = chat[0]
    code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGINT)
    assert code == 130
    assert survivors == set()


def test_sigterm_leaves_no_process_behind(project):
    proc, _, _ = _start_serve(project)
    try:
        code, survivors = processes.interrupt_and_check_gone(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)
    assert code == 128 + signal.SIGTERM
    assert survivors == set()
