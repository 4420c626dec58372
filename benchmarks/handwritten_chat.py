"""A hand-written Modal app equivalent to the vLLM chat server Blueprint used by cold_start.py
(tests/modal_backend/blueprints.py::vllm_server): what an experienced Modal engineer would write.

It is the baseline for the cold-start benchmark, so it does the same work at import: the same
image, volumes, secrets and one `@app.server` class with the snapshot pattern. (`mdeploy eject`
output will replace this file.)
"""

import json
import os
import subprocess
import time
import urllib.request

import modal

image = (
    modal.Image.from_registry("nvidia/cuda:12.8.0-devel-ubuntu22.04", add_python="3.12")
    .entrypoint([])
    .uv_pip_install("vllm==0.11.0", "huggingface-hub==0.35.3")
    .env({"HF_XET_HIGH_PERFORMANCE": "1"})
)
hf_cache = modal.Volume.from_name("huggingface-cache", create_if_missing=True)
vllm_cache = modal.Volume.from_name("vllm-cache", create_if_missing=True)
hf_secret = modal.Secret.from_name("huggingface-secret", required_keys=["HF_TOKEN"])
api_secret = modal.Secret.from_name("llm-api-key", required_keys=["API_KEY"])

app = modal.App("chat-llama")

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
PORT = 8000
BASE = f"http://127.0.0.1:{PORT}"


def _post(path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as response:
        response.read()


@app.server(
    image=image,
    gpu="H100:2",
    cpu=8.0,
    memory=65536,
    secrets=[hf_secret, api_secret],
    env={"VLLM_LOGGING_LEVEL": "INFO"},
    volumes={"/root/.cache/huggingface": hf_cache, "/root/.cache/vllm": vllm_cache},
    min_containers=1,
    max_containers=4,
    buffer_containers=2,
    scaledown_window=900,
    port=PORT,
    startup_timeout=1200,
    target_concurrency=32,
    max_concurrency=64,
    unauthenticated=True,
    exit_grace_period=30,
    routing_region="us-east",
    compute_region=["us-east"],
    enable_memory_snapshot=True,
    experimental_options={"enable_gpu_snapshot": True},
)
class Chat:
    @modal.enter(snap=True)
    def start_and_sleep(self):
        cmd = ["vllm", "serve", MODEL, "--served-model-name", MODEL, "llm", "--host", "0.0.0.0",
               "--port", str(PORT), "--tensor-parallel-size", "2", "--enable-sleep-mode",
               "--api-key", os.environ["API_KEY"]]  # fmt: skip
        self.process = subprocess.Popen(cmd, start_new_session=True)
        deadline = time.monotonic() + 1200
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(BASE + "/health", timeout=5)
                break
            except OSError:
                time.sleep(1)
        for _ in range(2):
            _post("/v1/chat/completions", {"model": "llm", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8})
        _post("/sleep?level=1")

    @modal.enter(snap=False)
    def wake(self):
        _post("/wake_up")

    @modal.exit()
    def stop(self):
        os.killpg(self.process.pid, 15)
