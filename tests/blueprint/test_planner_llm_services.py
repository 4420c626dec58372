"""LLM services -> ServerSpec: engine command, image, caches, auth, snapshots, scaling defaults."""

from __future__ import annotations

import json

import pytest

from engine.manifest.errors import ManifestError


def only_server(blueprint):
    (server,) = blueprint.servers
    return server


def flag(server, name):
    return server.command[server.command.index(name) + 1]


def test_tensor_parallel_follows_gpu_count(plan, llm_manifest):
    server = only_server(plan(llm_manifest(gpu="H100:4")))
    assert flag(server, "--tensor-parallel-size") == "4"


def test_tensor_parallel_is_one_for_a_single_gpu(plan, llm_manifest):
    assert flag(only_server(plan(llm_manifest(gpu="L40S"))), "--tensor-parallel-size") == "1"


def test_explicit_tensor_parallel_is_used(plan, llm_manifest):
    server = only_server(plan(llm_manifest(gpu="H100:2", engine_args={"tensor_parallel_size": 2})))
    assert flag(server, "--tensor-parallel-size") == "2"


def test_fast_boot_adds_enforce_eager(plan, llm_manifest):
    assert "--enforce-eager" in only_server(plan(llm_manifest(fast_boot=True))).command


def test_without_fast_boot_cuda_graphs_stay_on(plan, llm_manifest):
    assert "--no-enforce-eager" in only_server(plan(llm_manifest(fast_boot=False))).command


def test_model_is_served_at_its_pinned_revision(plan, llm_manifest):
    server = only_server(plan(llm_manifest()))
    assert flag(server, "--revision") == "0e9e39f249a16976918f6564b8830bc894c89659"


def test_served_name_defaults_to_model_id(plan, llm_manifest):
    assert only_server(plan(llm_manifest())).served_model_name == "meta-llama/Llama-3.1-8B-Instruct"


def test_served_name_is_taken_from_the_manifest(plan, llm_manifest):
    data = llm_manifest()
    data["services"]["chat"]["model"]["served_name"] = "llm"
    assert only_server(plan(data)).served_model_name == "llm"


def test_engine_args_reach_the_command(plan, llm_manifest):
    server = only_server(plan(llm_manifest(engine_args={"max_model_len": 4096, "extra_args": ["--seed", "0"]})))
    assert flag(server, "--max-model-len") == "4096"
    assert server.command[-2:] == ("--seed", "0")


def test_llm_service_uses_the_engine_default_image_not_defaults_image(plan, llm_manifest):
    data = llm_manifest()
    data["images"] = {"base": {"python": "3.12"}}
    data["defaults"] = {"image": "base"}
    blueprint = plan(data)
    assert only_server(blueprint).container.image == "vllm-default"
    assert [i.key for i in blueprint.images] == ["vllm-default"]


def test_llm_service_can_name_its_own_image(plan, llm_manifest):
    data = llm_manifest(image="custom")
    data["images"] = {"custom": {"registry": "vllm/vllm-openai:v0.15.0"}}
    blueprint = plan(data)
    assert only_server(blueprint).container.image == "custom"
    assert [i.key for i in blueprint.images] == ["custom"]


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm", "transformers"])
def test_a_service_with_its_own_image_keeps_the_engines_run_time_env(plan, llm_manifest, engine):
    from engine.engines.registry import get_engine

    data = llm_manifest(engine=engine, image="mine")
    data["images"] = {"mine": {"python": "3.12"}}
    server = only_server(plan(data))
    for key, value in get_engine(engine).runtime_env.items():
        assert server.container.env[key] == value


def test_the_manifests_env_wins_over_the_engines(plan, llm_manifest):
    server = only_server(plan(llm_manifest(env={"HF_XET_HIGH_PERFORMANCE": "0"})))
    assert server.container.env["HF_XET_HIGH_PERFORMANCE"] == "0"


def test_engine_caches_are_mounted_and_declared(plan, llm_manifest):
    blueprint = plan(llm_manifest())
    mounts = {m.path: m.source for m in only_server(blueprint).container.mounts}
    assert mounts == {"/root/.cache/huggingface": "hf-cache", "/root/.cache/vllm": "vllm-cache"}
    assert {v.key: v.name for v in blueprint.volumes} == {"hf-cache": "huggingface-cache", "vllm-cache": "vllm-cache"}


def test_engine_cache_reuses_a_manifest_volume_with_the_same_modal_name(plan, llm_manifest):
    data = llm_manifest()
    data["volumes"] = {"weights-cache": {"name": "huggingface-cache"}}
    blueprint = plan(data)
    assert [v.name for v in blueprint.volumes].count("huggingface-cache") == 1
    mounts = {m.path: m.source for m in only_server(blueprint).container.mounts}
    assert mounts["/root/.cache/huggingface"] == "weights-cache"


def test_a_manifest_mount_at_a_cache_path_wins(plan, llm_manifest):
    data = llm_manifest(volumes={"/root/.cache/vllm": "mine"})
    data["volumes"] = {"mine": {}}
    blueprint = plan(data)
    mounts = {m.path: m.source for m in only_server(blueprint).container.mounts}
    assert mounts["/root/.cache/vllm"] == "mine"
    assert "vllm-cache" not in {v.key for v in blueprint.volumes}


def test_proxy_auth_is_on_by_default(plan, llm_manifest):
    assert only_server(plan(llm_manifest())).requires_proxy_auth is True


def test_api_key_becomes_a_secret_arg_and_attaches_its_secret(plan, llm_manifest):
    data = llm_manifest(auth={"proxy": False, "api_key_secret": "llm-key", "api_key_env": "LLM_API_KEY"})
    data["secrets"] = {"llm-key": {"name": "llm-api-key", "required_keys": ["LLM_API_KEY"]}}
    server = only_server(plan(data))
    assert [(a.flag, a.env) for a in server.secret_args] == [("--api-key", "LLM_API_KEY")]
    assert "llm-key" in server.container.secrets
    assert "--api-key" not in server.command  # the value is read at launch, never planned


def test_api_key_on_an_engine_that_cannot_check_one_is_an_error(plan, llm_manifest):
    data = llm_manifest(engine="trtllm", auth={"api_key_secret": "k"})
    data["secrets"] = {"k": {}}
    with pytest.raises(ManifestError) as info:
        plan(data)
    assert info.value.problems[0].key == "services.chat.auth.api_key_secret"


def test_memory_snapshot_starts_in_sleep_mode_and_warms_up(plan, llm_manifest):
    server = only_server(plan(llm_manifest(memory_snapshot={"enabled": True, "gpu": True})))
    assert "--enable-sleep-mode" in server.command
    assert server.snapshot.sleep_path == "/sleep?level=1"
    assert server.container.enable_memory_snapshot and server.container.gpu_snapshot
    assert server.container.env["VLLM_SERVER_DEV_MODE"] == "1"
    assert server.warmup is not None and server.warmup.requests >= 1


def test_warmup_false_means_no_warmup_even_with_a_snapshot(plan, llm_manifest):
    server = only_server(plan(llm_manifest(memory_snapshot=True, warmup=False)))
    assert server.snapshot is not None and server.warmup is None


def test_unset_warmup_with_a_snapshot_sends_one_request(plan, llm_manifest):
    assert only_server(plan(llm_manifest(memory_snapshot=True))).warmup.requests == 1


def test_warmup_false_without_a_snapshot_is_no_warmup(plan, llm_manifest):
    assert only_server(plan(llm_manifest(warmup=False))).warmup is None


def test_sglang_memory_snapshot_uses_the_memory_saver(plan, llm_manifest):
    server = only_server(plan(llm_manifest(engine="sglang", memory_snapshot=True)))
    assert "--enable-memory-saver" in server.command
    # Modal's SGLang snapshot examples: weights backed up to CPU, one inductor compile thread.
    assert "--enable-weights-cpu-backup" in server.command
    assert server.container.env["TORCHINDUCTOR_COMPILE_THREADS"] == "1"
    assert server.snapshot.sleep_path == "/release_memory_occupation"
    assert server.snapshot.wake_path == "/resume_memory_occupation"


def test_without_snapshot_there_is_no_sleep_mode(plan, llm_manifest):
    server = only_server(plan(llm_manifest()))
    assert server.snapshot is None and "--enable-sleep-mode" not in server.command
    assert "VLLM_SERVER_DEV_MODE" not in server.container.env


def test_snapshot_on_an_engine_without_sleep_mode_is_an_error(plan, llm_manifest):
    with pytest.raises(ManifestError) as info:
        plan(llm_manifest(engine="trtllm", memory_snapshot=True))
    assert info.value.problems[0].key == "services.chat.memory_snapshot"


def test_fast_boot_on_an_engine_without_it_is_an_error(plan, llm_manifest):
    with pytest.raises(ManifestError) as info:
        plan(llm_manifest(engine="trtllm", fast_boot=True))
    assert info.value.problems[0].key == "services.chat.fast_boot"


def test_all_engine_problems_are_reported_together(plan, llm_manifest):
    with pytest.raises(ManifestError) as info:
        plan(llm_manifest(engine="trtllm", fast_boot=True, memory_snapshot=True))
    assert len(info.value.problems) == 2


def test_transformers_has_no_task_switch_it_serves_chat_only(plan, llm_manifest):
    with pytest.raises(ManifestError) as info:
        plan(llm_manifest(engine="transformers", gpu=None, engine_args={"task": "embed"}))
    assert info.value.problems[0].key == "services.chat.engine_args.task"
    assert "unknown key" in info.value.problems[0].message


def test_transformers_runs_without_a_gpu(plan, llm_manifest):
    data = llm_manifest(engine="transformers", engine_args={"device": "cpu"})
    del data["services"]["chat"]["gpu"]
    server = only_server(plan(data))
    assert server.container.gpu == () and server.command[:2] == ("transformers", "serve")


def test_trtllm_quantization_config_reaches_the_container_env(plan, llm_manifest):
    server = only_server(plan(llm_manifest(engine="trtllm", engine_args={"quantization": "fp8"})))
    assert "quant_algo: FP8" in server.container.env["MDEPLOY_TRTLLM_CONFIG"]


def test_transformers_serves_only_the_pinned_model_argument(plan, llm_manifest):
    server = only_server(plan(llm_manifest(engine="transformers", gpu=None)))
    assert server.served_model_name == server.command[2]
    assert server.served_model_name.endswith("@" + llm_manifest()["services"]["chat"]["model"]["revision"])


def test_transformers_refuses_a_served_name_it_cannot_answer_to(plan, llm_manifest):
    data = llm_manifest(engine="transformers", gpu=None)
    data["services"]["chat"]["model"]["served_name"] = "llm"
    with pytest.raises(ManifestError) as info:
        plan(data)
    assert info.value.problems[0].key == "services.chat.model.served_name"


def test_warmup_requests_the_served_model(plan, llm_manifest):
    server = only_server(plan(llm_manifest(warmup={"requests": 3})))
    assert server.warmup.requests == 3
    assert json.loads(server.warmup.body)["model"] == server.served_model_name


def test_server_concurrency_target_defaults_to_32(plan, llm_manifest):
    server = only_server(plan(llm_manifest()))
    assert (server.target_concurrency, server.max_concurrency) == (32, None)


def test_server_concurrency_target_never_exceeds_max(plan, llm_manifest):
    server = only_server(plan(llm_manifest(concurrency={"max": 8})))
    assert (server.target_concurrency, server.max_concurrency) == (8, 8)


def test_server_scaledown_window_defaults_to_15_minutes(plan, llm_manifest):
    assert only_server(plan(llm_manifest())).container.scaling.scaledown_window == 900


def test_server_startup_timeout_comes_from_the_manifest(plan, llm_manifest):
    assert only_server(plan(llm_manifest(startup_timeout="30m"))).startup_timeout == 1800


def test_a_server_has_no_timeout_even_with_defaults_timeout(plan, llm_manifest):
    data = llm_manifest()
    data["defaults"] = {"timeout": "1h"}
    server = only_server(plan(data))
    assert not hasattr(server, "timeout") and not hasattr(server.container, "timeout")


def test_server_startup_timeout_defaults_to_20_minutes(plan, llm_manifest):
    assert only_server(plan(llm_manifest())).startup_timeout == 1200


def test_server_listens_on_8000_by_default(plan, llm_manifest):
    server = only_server(plan(llm_manifest()))
    assert (server.port, flag(server, "--port")) == (8000, "8000")


def test_server_port_comes_from_the_manifest(plan, llm_manifest):
    server = only_server(plan(llm_manifest(port=9000)))
    assert (server.port, flag(server, "--port")) == (9000, "9000")


def test_api_key_is_read_from_the_api_key_variable_by_default(plan, llm_manifest):
    data = llm_manifest(auth={"api_key_secret": "llm-key"})
    data["secrets"] = {"llm-key": {"required_keys": ["API_KEY"]}}
    assert [a.env for a in only_server(plan(data)).secret_args] == ["API_KEY"]


def test_warmup_true_sends_one_request(plan, llm_manifest):
    assert only_server(plan(llm_manifest(warmup=True))).warmup.requests == 1


def test_health_path_is_the_engines(plan, llm_manifest):
    assert only_server(plan(llm_manifest())).health_path == "/health"


def _only_problem_planning(tmp_path, engine: str, *service_lines: str):
    """Plan a one-service manifest file (lines 1-8 fixed, `service_lines` from line 9 on)."""
    from engine.planner.plan import plan_file

    path = tmp_path / "svc.yaml"
    head = (
        "version: 1\n"
        "app: t\n"
        "services:\n"
        "  chat:\n"
        "    kind: llm\n"
        f"    engine: {engine}\n"
        "    model: {id: org/m, revision: 0e9e39f249a16976918f6564b8830bc894c89659}\n"
        "    gpu: H100\n"
    )
    path.write_text(head + "".join(f"{line}\n" for line in service_lines))
    with pytest.raises(ManifestError) as info:
        plan_file(path, None, environ={})
    (problem,) = info.value.problems
    return problem


def test_engine_problems_point_at_the_manifest_line(tmp_path):
    problem = _only_problem_planning(tmp_path, "trtllm", "    fast_boot: true")
    assert problem.key == "services.chat.fast_boot"
    assert problem.location is not None and problem.location.line == 9


def test_extra_args_may_not_repeat_a_flag_the_planner_sets(plan, llm_manifest):
    data = llm_manifest(
        engine_args={"extra_args": ["--seed", "0", "--port=9000", "-tp", "2", "--max_model_len", "4096"]}
    )
    with pytest.raises(ManifestError) as info:
        plan(data)
    found = [(p.key, p.hint) for p in info.value.problems]
    assert found == [
        ("services.chat.engine_args.extra_args[2]", "set services.chat.port instead, and remove it from extra_args"),
        (
            "services.chat.engine_args.extra_args[3]",
            "set services.chat.engine_args.tensor_parallel_size instead, and remove it from extra_args",
        ),
        (
            "services.chat.engine_args.extra_args[5]",
            "set services.chat.engine_args.max_model_len instead, and remove it from extra_args",
        ),
    ]
    assert "--port is a flag mdeploy sets itself" in info.value.problems[0].message


def test_extra_args_the_planner_does_not_set_pass_through(plan, llm_manifest):
    server = only_server(
        plan(
            llm_manifest(
                engine="sglang", engine_args={"extra_args": ["--disable-radix-cache", "--model-impl", "sglang"]}
            )
        )
    )
    assert server.command[-3:] == ("--disable-radix-cache", "--model-impl", "sglang")


def test_a_repeated_flag_in_extra_args_points_at_its_line(tmp_path):
    problem = _only_problem_planning(
        tmp_path,
        "sglang",
        "    engine_args:",
        "      extra_args:",
        "        - --enable-metrics",
        "        - --host=127.0.0.1",
    )
    assert problem.key == "services.chat.engine_args.extra_args[1]"
    assert (problem.location.line, problem.location.col) == (12, 11)
    assert "0.0.0.0" in problem.hint
