"""The engine facts a server's fields hold: decided once by the planner, from the manifest key the
engine has for each, else the engine's own flag in extra_args, else the engine's own default;
and the command is what the engine derives from exactly those fields."""

from __future__ import annotations

import pytest

from engine.engines.registry import get_engine
from engine.manifest.errors import ManifestError


def only_server(blueprint):
    (server,) = blueprint.servers
    return server


def test_unset_serving_settings_hold_the_engines_defaults(plan, llm_manifest):
    server = only_server(plan(llm_manifest()))  # vLLM on an H100
    assert (server.context_length, server.max_sequences, server.memory_utilization) == (None, 1024, 0.92)
    assert (server.dtype, server.quantization, server.kv_cache_dtype) == ("auto", None, "auto")
    assert set(server.engine_defaults) == {
        "context_length",
        "max_sequences",
        "memory_utilization",
        "dtype",
        "quantization",
        "kv_cache_dtype",
    }


@pytest.mark.parametrize(
    ("gpu", "sequences"),
    [
        ("H100", 1024),
        ("H200:2", 1024),
        ("B200", 1024),  # >= 70 GiB: vLLM's larger batch
        ("B300", 1024),
        ("RTX-PRO-6000", 1024),  # 96 GiB, and not an A100: the rule is memory, not a list of names
        ("A100-80GB", 256),  # the A100 is vLLM's named exception
        ("L40S", 256),
        ("L4", 256),
        (["L4", "H100"], 256),  # a fallback list: where Modal tries first
    ],
)
def test_vllms_default_batch_follows_the_gpu_it_runs_on(plan, llm_manifest, gpu, sequences):
    server = only_server(plan(llm_manifest(gpu=gpu)))
    assert server.max_sequences == sequences and "max_sequences" in server.engine_defaults


def test_the_engines_keys_set_the_settings_and_leave_the_defaults(plan, llm_manifest):
    args = {"max_model_len": 4096, "gpu_memory_utilization": 0.8, "quantization": "fp8"}
    server = only_server(plan(llm_manifest(engine_args=args)))
    assert (server.context_length, server.memory_utilization, server.quantization) == (4096, 0.8, "fp8")
    assert "context_length" not in server.engine_defaults and "max_sequences" in server.engine_defaults


def test_sglang_reads_a_batch_size_and_kv_dtype_it_has_no_key_for_from_extra_args(plan, llm_manifest):
    extra = ["--max-running-requests", "48", "--kv-cache-dtype=fp8_e5m2"]
    server = only_server(
        plan(llm_manifest(engine="sglang", engine_args={"mem_fraction_static": 0.7, "extra_args": extra}))
    )
    assert (server.max_sequences, server.kv_cache_dtype, server.memory_utilization) == (48, "fp8_e5m2", 0.7)
    assert server.command[-3:] == ("--max-running-requests", "48", "--kv-cache-dtype=fp8_e5m2")


def test_a_setting_in_extra_args_that_is_not_a_number_is_refused_where_it_is(plan, llm_manifest):
    extra = ["--max-running-requests", "many"]
    with pytest.raises(ManifestError) as info:
        plan(llm_manifest(engine="sglang", engine_args={"extra_args": extra}))
    assert "services.chat.engine_args.extra_args[1]: sglang reads its max_sequences" in str(info.value)
    assert "'many' is not a whole number" in str(info.value)


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm"])
def test_the_command_is_the_engines_argv_of_the_fields(plan, llm_manifest, engine):
    server = only_server(plan(llm_manifest(engine=engine, gpu="H100:2")))
    assert server.tensor_parallel_size == 2 and server.needs_gpu
    assert server.command == get_engine(engine).command(server)


def test_served_names_are_what_the_engine_answers_to(plan, llm_manifest):
    vllm = only_server(plan(llm_manifest(model={"id": "org/m", "revision": "a" * 40, "served_name": "llm"})))
    assert vllm.served_names == ("org/m", "llm") and vllm.revision == "a" * 40
    sglang = only_server(
        plan(llm_manifest(engine="sglang", model={"id": "org/m", "revision": "a" * 40, "served_name": "llm"}))
    )
    assert sglang.served_names == ("llm",)


def test_the_engines_runtime_env_is_a_field_too(plan, llm_manifest):
    server = only_server(plan(llm_manifest(engine="sglang")))
    assert server.engine_env["SGLANG_DG_CACHE_DIR"] == "/root/.cache/deepgemm"
    assert all(server.container.env[name] == value for name, value in server.engine_env.items())
