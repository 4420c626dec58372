"""A `kind: server` at the seam: what Modal's own client sends on `modal deploy engine/entry.py`
for manifests/embeddings-tei.yaml (against the fake control plane, tests/support/), spelled out
as the manifest's literal values rather than compared with the Blueprint (test_deploy_seam.py
does that for every manifest): the port, start-up timeout, GPU, scaling and concurrency Modal
receives, and the command, health path and warm-up the container reads from MDEPLOY_BLUEPRINT."""

from __future__ import annotations

from pathlib import Path

from engine.blueprint.codec import ENV_VAR, decode_from_env
from tests.modal_backend.seam_sent import SentApp
from tests.support.modal_deploy import deploy, fake_modal

MANIFEST = Path("manifests/embeddings-tei.yaml")


def test_modal_receives_the_servers_port_timeout_gpu_scaling_and_concurrency():
    with fake_modal() as fake:
        sent = SentApp.from_calls(deploy(fake, MANIFEST, "main"))
    d = sent.functions["embed"].definition
    assert (d.is_server, d.is_class, d.implementation_name) == (True, True, "Embed.*")
    assert d.http_config.port == 8080
    assert d.http_config.startup_timeout == 600
    assert (d.resources.gpu_config.gpu_type, d.resources.gpu_config.count) == ("L4", 1)
    a = d.autoscaler_settings
    assert (a.max_containers, a.scaledown_window, a.target_concurrency_float) == (4, 300, 64)
    assert d.max_concurrent_inputs == 128

    values = [env[ENV_VAR] for sid in sent.secrets if (env := sent.env_dict(sid)) and ENV_VAR in env]
    server = decode_from_env(values[0]).servers[0]
    assert server.kind == "server" and server.engine == "" and server.model == ""
    assert server.command[-4:] == ("--hostname", "0.0.0.0", "--port", "8080")
    assert server.command_template[-1] == "${PORT}"
    assert (server.health_path, server.ready_on_any_answer) == ("/health", False)
    w = server.warmup
    assert (w.path, w.method, w.body, w.status, w.requests, w.fatal) == (
        "/embed",
        "POST",
        '{"inputs": ["warm up"]}',
        200,
        2,
        True,
    )
