"""engine_args.config as each engine writes and checks it (engine/engines/config_file.py)."""

from __future__ import annotations

import json

import yaml

from engine.engines import sglang, trtllm
from engine.engines.common import LaunchParams, format_value
from engine.engines.config_file import to_yaml


def params(config: dict | None = None, **fields) -> LaunchParams:
    options = dict(fields.pop("options", {}))
    if config is not None:
        options["config"] = format_value(config)
    return LaunchParams(model="org/m", revision=None, served_name="m", port=8000, options=options, **fields)


def test_yaml_reads_back_as_the_mapping_it_was_written_from():
    mapping = {
        "a": 1,
        "b": "yes",  # a YAML word: quoted
        "c": {"d": [1, "x y"], "e": {}},
        "f": [],
        "g": None,
        "h": 0.5,
        "i": "FP8",
        "j": [{"k": 1}],
    }
    assert yaml.safe_load(to_yaml(mapping)) == mapping


def test_a_mapping_is_canonical_json_in_engine_options():
    assert format_value({"b": 1, "a": {"c": True}}) == '{"b":1,"a":{"c":true}}'


def test_sglang_config_is_a_file_named_by_config_written_before_the_engine_starts():
    p = params({"chunked_prefill_size": 4096, "enable_torch_compile": True})
    argv = sglang.launch_command(p)
    assert argv[:2] == ("sh", "-c") and sglang.CONFIG_ENV in argv[2] and sglang.CONFIG_PATH in argv[2]
    real = argv[4:]
    assert real[:3] == ("python", "-m", "sglang.launch_server")
    assert real[real.index("--config") + 1] == sglang.CONFIG_PATH
    # Keys spelled as SGLang's flags, which its config merger turns back into arguments.
    text = sglang.launch_env(p)[sglang.CONFIG_ENV]
    assert yaml.safe_load(text) == {"chunked-prefill-size": 4096, "enable-torch-compile": True}


def test_sglang_json_valued_arguments_are_written_as_one_json_text():
    p = params({"json_model_override_args": {"rope_scaling": {"type": "yarn"}}})
    written = yaml.safe_load(sglang.launch_env(p)[sglang.CONFIG_ENV])
    assert json.loads(written["json-model-override-args"]) == {"rope_scaling": {"type": "yarn"}}


def test_sglang_without_config_runs_the_server_directly():
    assert sglang.launch_command(params())[0] == "python" and sglang.launch_env(params()) == {}


def _problems(engine, config: dict, **fields) -> dict[str, str]:
    return {
        ".".join(map(str, problem.at)): f"{problem.message} ({problem.hint})"
        for problem in engine.check_config(params(config, **fields), getattr(engine, "VERSION", None))
    }


def test_sglang_config_keys_are_checked_against_the_catalogue():
    found = _problems(
        sglang,
        {
            "chunked_prefil": 1,
            "tp_size": 2,
            "context_length": 4096,
            "max_running_requests": 8,
            "schedule_policy": "lpmx",
            "enable_torch_compile": "yes",
            "config": "x.yaml",
            "chunked_prefill_size": 2048,
        },
    )
    assert "did you mean 'chunked_prefill_size'" in found["chunked_prefil"]
    assert "set engine_args.tensor_parallel_size instead" in found["tp_size"]
    assert "set engine_args.context_length instead" in found["context_length"]
    assert "extra_args" in found["max_running_requests"]
    assert "'lpmx' is not one" in found["schedule_policy"]
    assert "is a switch" in found["enable_torch_compile"]
    assert "config" in found
    assert "chunked_prefill_size" not in found


def test_sglang_config_key_also_in_extra_args_is_a_conflict():
    found = _problems(sglang, {"chunked_prefill_size": 2048}, extra_args=("--chunked-prefill-size", "4096"))
    assert "engine_args.extra_args[0] sets too" in found["chunked_prefill_size"]


def test_trtllm_config_merges_with_dtype_and_quantization():
    p = params(
        {"kv_cache_config": {"free_gpu_memory_fraction": 0.8}, "quant_config": {"kv_cache_quant_algo": "FP8"}},
        options={"quantization": "fp8", "dtype": "bfloat16"},
    )
    assert yaml.safe_load(trtllm.launch_env(p)[trtllm.CONFIG_ENV]) == {
        "dtype": "bfloat16",
        "quant_config": {"quant_algo": "FP8", "kv_cache_quant_algo": "FP8"},
        "kv_cache_config": {"free_gpu_memory_fraction": 0.8},
    }
    argv = trtllm.launch_command(p)
    assert argv[:2] == ("sh", "-c") and argv[-2:] == ("--extra_llm_api_options", trtllm.CONFIG_PATH)


def test_trtllm_config_keys_are_llm_api_options_not_set_elsewhere():
    found = _problems(
        trtllm,
        {
            "kv_cache_confg": {},
            "cuda_graph_config": {},
            "tensor_parallel_size": 2,
            "max_seq_len": 4096,
            "build_config": 3,
            "quant_config": {"quant_algo": "FP8"},
            "enable_build_cache": True,
            "enable_chunked_prefill": True,
        },
    )
    assert "did you mean 'kv_cache_config'" in found["kv_cache_confg"]
    assert "PyTorch backend" in found["cuda_graph_config"]
    assert "engine_args.tensor_parallel_size" in found["tensor_parallel_size"]
    assert "engine_args.max_seq_len" in found["max_seq_len"]
    assert "mapping" in found["build_config"]
    assert "engine_args.quantization" in found["quant_config.quant_algo"]
    assert "trtllm-engines volume" in found["enable_build_cache"]
    assert "enable_chunked_prefill" not in found
