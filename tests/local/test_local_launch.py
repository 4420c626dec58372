from pathlib import Path

import pytest

from engine.errors import UserError
from engine.local.launch import server_launch, web_launch


def _launch(bp, server, *, environ=None, dotenv=None, port=None, has_gpu=False, blueprint=None, tmp=Path("/w")):
    blueprint = blueprint or bp.blueprint(servers=[server])
    return server_launch(
        blueprint,
        server,
        workdir=tmp,
        environ=environ or {"PATH": "/bin"},
        dotenv=dotenv or {},
        host="127.0.0.1",
        port=port,
        has_gpu=has_gpu,
    )


def _flag(argv, flag):
    return argv[argv.index(flag) + 1]


def test_host_and_port_are_local(bp):
    launch = _launch(bp, bp.server(), port=9123)
    assert _flag(launch.argv, "--host") == "127.0.0.1"
    assert _flag(launch.argv, "--port") == "9123"
    assert launch.url == "http://127.0.0.1:9123"


def test_port_defaults_to_the_services_port(bp):
    assert _launch(bp, bp.server()).port == 8000


def test_port_is_appended_when_the_command_has_none(bp):
    launch = _launch(bp, bp.server(command=("engine-x",)), port=9000)
    assert launch.argv[-4:] == ("--host", "127.0.0.1", "--port", "9000")


def test_transformers_on_cuda_runs_on_cpu_without_a_gpu(bp):
    server = bp.server(command=None, engine_options={"device": "cuda"}, gpu=("L4",))
    assert _flag(server.command, "--device") == "cuda"
    launch = _launch(bp, server)
    assert _flag(launch.argv, "--device") == "cpu"
    assert any("--device cpu" in note for note in launch.notes)


def test_transformers_keeps_cuda_where_there_is_a_gpu(bp):
    server = bp.server(command=None, engine_options={"device": "cuda"}, gpu=("L4",))
    assert _flag(_launch(bp, server, has_gpu=True).argv, "--device") == "cuda"


def test_gpu_only_engine_without_a_gpu_is_a_clear_error(bp):
    server = bp.server(engine="sglang", command=None, gpu=("H100",))
    with pytest.raises(UserError, match="engine 'sglang'.*no GPU.*transformers engine and vLLM"):
        _launch(bp, server)


def _executable(folder, name):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def _vllm_server(bp):
    return bp.server(engine="vllm", command=None, gpu=("H100",), engine_options={"gpu_memory_utilization": 0.9})


def test_vllm_without_a_gpu_nor_vllm_is_a_clear_error(bp, tmp_path):
    with pytest.raises(UserError, match="engine 'vllm'.*no GPU and no vllm.*docs/local.md.*MDEPLOY_VLLM"):
        _launch(bp, _vllm_server(bp), environ={"PATH": str(tmp_path)})


def test_vllm_without_a_gpu_runs_the_vllm_on_path_on_cpu(bp, tmp_path):
    _executable(tmp_path / "bin", "vllm")
    launch = _launch(bp, _vllm_server(bp), environ={"PATH": str(tmp_path / "bin")})
    assert launch.argv[:2] == ("vllm", "serve")
    assert "--gpu-memory-utilization" not in launch.argv
    assert launch.env["VLLM_CPU_KVCACHE_SPACE"] == "1"
    assert any("VLLM_CPU_KVCACHE_SPACE=1" in note for note in launch.notes)


def test_mdeploy_vllm_names_the_vllm_executable(bp, tmp_path):
    vllm = _executable(tmp_path / "venv" / "bin", "vllm")
    launch = _launch(bp, _vllm_server(bp), environ={"PATH": str(tmp_path), "MDEPLOY_VLLM": str(vllm)})
    assert launch.argv[0] == str(vllm) and launch.argv[1] == "serve"


def test_mdeploy_vllm_is_used_on_a_gpu_machine_too(bp, tmp_path):
    vllm = _executable(tmp_path / "venv" / "bin", "vllm")
    launch = _launch(bp, _vllm_server(bp), environ={"PATH": "/bin", "MDEPLOY_VLLM": str(vllm)}, has_gpu=True)
    assert launch.argv[0] == str(vllm)
    assert "--gpu-memory-utilization" in launch.argv and "VLLM_CPU_KVCACHE_SPACE" not in launch.env


def test_mdeploy_vllm_that_is_no_executable_is_a_clear_error(bp, tmp_path):
    with pytest.raises(UserError, match=r"MDEPLOY_VLLM=.*nowhere is not an executable file"):
        _launch(bp, _vllm_server(bp), environ={"PATH": "/bin", "MDEPLOY_VLLM": str(tmp_path / "nowhere")})


def test_mounted_model_path_is_rewritten_in_argv_and_served_name(bp, tmp_path):
    mount = bp.MountSpec("/models", "volume", "weights")
    server = bp.server(mounts=(mount,))
    blueprint = bp.blueprint(servers=[server], volumes=[bp.VolumeSpec("weights", "model-weights")])
    launch = _launch(bp, server, blueprint=blueprint, tmp=tmp_path)
    local = str((tmp_path / ".mdeploy" / "volumes" / "model-weights" / "tiny").resolve())
    assert launch.argv[2] == local
    assert launch.served_model == local


def test_hf_cache_mount_sets_hf_home(bp, tmp_path):
    server = bp.server(mounts=(bp.MountSpec("/root/.cache/huggingface", "volume", "hf-cache"),))
    blueprint = bp.blueprint(servers=[server], volumes=[bp.VolumeSpec("hf-cache", "huggingface-cache")])
    launch = _launch(bp, server, blueprint=blueprint, tmp=tmp_path)
    assert launch.env["HF_HOME"] == str((tmp_path / ".mdeploy/volumes/huggingface-cache").resolve())


def test_container_env_overrides_and_is_path_rewritten(bp, tmp_path):
    server = bp.server(env={"CACHE": "/models/c", "A": "1"}, mounts=(bp.MountSpec("/models", "volume", "w"),))
    launch = _launch(bp, server, environ={"A": "0", "PATH": "/bin"}, tmp=tmp_path)
    assert launch.env["A"] == "1"
    assert launch.env["CACHE"] == str((tmp_path / ".mdeploy/volumes/w/c").resolve())


def test_dotenv_fills_what_the_environment_lacks(bp):
    launch = _launch(bp, bp.server(), environ={"X": "env"}, dotenv={"X": "file", "Y": "file"})
    assert (launch.env["X"], launch.env["Y"]) == ("env", "file")


def test_secret_args_are_appended_with_values_from_dotenv(bp):
    server = bp.server(secrets=("key",), secret_args=(bp.SecretArg("--api-key", "API_KEY"),))
    blueprint = bp.blueprint(servers=[server], secrets=[bp.SecretSpec("key", "llm-api", ("API_KEY",))])
    launch = _launch(bp, server, blueprint=blueprint, dotenv={"API_KEY": "s3"})
    assert launch.argv[-2:] == ("--api-key", "s3")


def test_missing_required_secret_key_stops_the_launch(bp):
    server = bp.server(secrets=("hf",))
    blueprint = bp.blueprint(servers=[server], secrets=[bp.SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",))])
    with pytest.raises(UserError, match="HF_TOKEN"):
        _launch(bp, server, blueprint=blueprint)


def _web(bp, kind, **kw):
    function = bp.function(key="api", handler="webapp.main:app", web=bp.WebSpec(kind=kind, **kw))
    return web_launch(
        bp.blueprint(functions=[function]),
        function,
        workdir=Path("/w"),
        environ={},
        dotenv={},
        host="127.0.0.1",
        port=None,
    )


def test_asgi_app_object_runs_under_uvicorn(bp):
    launch = _web(bp, "asgi_app")
    assert launch.argv[1:3] == ("-m", "uvicorn")
    assert "--factory" not in launch.argv
    assert launch.argv[-1] == "webapp.main:app"
    assert launch.health_path is None and launch.served_model is None


def test_wsgi_app_uses_the_wsgi_interface(bp):
    argv = _web(bp, "wsgi_app").argv
    assert _flag(argv, "--interface") == "wsgi"


def test_fastapi_endpoint_is_wrapped_by_the_endpoint_app(bp):
    launch = _web(bp, "fastapi_endpoint", method="POST")
    assert launch.argv[-2:] == ("--factory", "engine.local.endpoint_app:create_app")
    assert launch.env["MDEPLOY_ENDPOINT_HANDLER"] == "webapp.main:app"
    assert launch.env["MDEPLOY_ENDPOINT_METHOD"] == "POST"


def test_web_server_handler_is_called_and_keeps_its_port(bp):
    launch = _web(bp, "web_server", port=8080, startup_timeout=30)
    assert launch.argv[-1] == "webapp.main:app"
    assert (launch.port, launch.startup_timeout) == (8080, 30)


def test_web_server_port_cannot_be_moved(bp):
    function = bp.function(key="api", handler="m:f", web=bp.WebSpec(kind="web_server", port=8080, startup_timeout=5))
    with pytest.raises(UserError, match="port 8080, chosen by its handler"):
        web_launch(
            bp.blueprint(functions=[function]),
            function,
            workdir=Path("/w"),
            environ={},
            dotenv={},
            host="127.0.0.1",
            port=9000,
        )


def test_an_engines_own_command_is_derived_again_at_the_local_address(bp):
    server = bp.server(command=None, engine_options={"device": "auto"})
    assert server.command == (
        "transformers",
        "serve",
        "/models/tiny",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
        "--device",
        "auto",
        "--dtype",
        "auto",
    )
    launch = _launch(bp, server, port=9123)
    assert launch.argv == (
        "transformers",
        "serve",
        "/models/tiny",
        "--host",
        "127.0.0.1",
        "--port",
        "9123",
        "--device",
        "auto",
        "--dtype",
        "auto",
    )


def test_lora_adapters_in_a_volume_are_served_from_its_local_copy(tmp_path):
    """manifests/lora.yaml's adapters are folders in a mounted volume: locally each `name=path`
    of vLLM's --lora-modules names the volume's folder under .mdeploy/ (derived from the fields,
    not by editing the argv), and nothing else of the command changes."""
    from engine.planner.plan import plan_file

    blueprint = plan_file("manifests/lora.yaml", None)
    (server,) = blueprint.servers
    launch = server_launch(
        blueprint,
        server,
        workdir=tmp_path,
        environ={"PATH": "/bin", "MDEPLOY_VLLM": "/bin/true", "HF_TOKEN": "hf_x"},
        dotenv={},
        host="127.0.0.1",
        port=None,
        has_gpu=True,
    )
    local = str((tmp_path / ".mdeploy" / "volumes" / "lora-weights").resolve())
    remote = [a.path for a in server.lora_adapters]
    assert remote and all(not p.startswith(local) for p in remote)
    modules = launch.argv[launch.argv.index("--lora-modules") + 1 :][: len(remote)]
    assert modules == tuple(
        f"{a.name}={local}{a.path.removeprefix(m)}" for a, m in zip(server.lora_adapters, _mounts(server))
    )
    assert not any(p in " ".join(launch.argv) for p in remote)


def _mounts(server):
    """The mount path each adapter lies under (its volume's, in the container)."""
    paths = [m.path for m in server.container.mounts]
    return [max((p for p in paths if a.path.startswith(p + "/")), key=len) for a in server.lora_adapters]
