"""Each engine's launch command: the flags its server really takes, in a fixed order."""

from __future__ import annotations

import pytest

from engine.engines import sglang, transformers, trtllm, vllm
from engine.engines.common import EngineOptionError, LaunchParams

MODEL = "Qwen/Qwen3-0.6B"
REV = "c1899de289a04d12100db370d81485cdf75e47ca"


def params(**overrides) -> LaunchParams:
    base = dict(model=MODEL, revision=REV, served_name="llm", port=8000, tensor_parallel=2)
    base.update(overrides)
    return LaunchParams(**base)


def flag_value(argv: tuple[str, ...], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_vllm_serves_model_at_pinned_revision_under_both_names():
    argv = vllm.launch_command(params())
    assert argv[:3] == ("vllm", "serve", MODEL)
    assert flag_value(argv, "--revision") == REV
    i = argv.index("--served-model-name")
    assert argv[i + 1 : i + 3] == (MODEL, "llm")


def test_vllm_serves_one_name_when_served_name_is_the_id():
    argv = vllm.launch_command(params(served_name=MODEL))
    i = argv.index("--served-model-name")
    assert argv[i + 1] == MODEL and argv[i + 2].startswith("--")


def test_vllm_listens_on_all_interfaces_at_the_port():
    argv = vllm.launch_command(params(port=9001))
    assert flag_value(argv, "--host") == "0.0.0.0"
    assert flag_value(argv, "--port") == "9001"


def test_vllm_tensor_parallel_size_is_passed():
    assert flag_value(vllm.launch_command(params(tensor_parallel=4)), "--tensor-parallel-size") == "4"


def test_fast_boot_adds_enforce_eager():
    assert "--enforce-eager" in vllm.launch_command(params(fast_boot=True))


def test_throughput_mode_adds_no_enforce_eager():
    argv = vllm.launch_command(params(fast_boot=False))
    assert "--no-enforce-eager" in argv and "--enforce-eager" not in argv


def test_vllm_path_model_has_no_revision_flag():
    assert "--revision" not in vllm.launch_command(params(model="/models/llama", revision=None))


def test_vllm_options_become_flags():
    argv = vllm.launch_command(params(options={"max_model_len": 8192, "gpu_memory_utilization": 0.9}))
    assert flag_value(argv, "--max-model-len") == "8192"
    assert flag_value(argv, "--gpu-memory-utilization") == "0.9"


def test_vllm_option_order_does_not_depend_on_mapping_order():
    a = vllm.launch_command(params(options={"max_model_len": 8192, "dtype": "bfloat16"}))
    b = vllm.launch_command(params(options={"dtype": "bfloat16", "max_model_len": 8192}))
    assert a == b


def test_vllm_boolean_option_false_uses_negative_flag():
    argv = vllm.launch_command(params(options={"enable_prefix_caching": False}))
    assert "--no-enable-prefix-caching" in argv


def test_extra_args_are_passed_through_last():
    argv = vllm.launch_command(params(extra_args=("--max-num-batched-tokens", "4096")))
    assert argv[-2:] == ("--max-num-batched-tokens", "4096")


def test_sleep_mode_adds_enable_sleep_mode():
    assert "--enable-sleep-mode" in vllm.launch_command(params(sleep_mode=True))
    assert "--enable-sleep-mode" not in vllm.launch_command(params(sleep_mode=False))


def test_unknown_option_is_an_engine_option_error_naming_the_key():
    with pytest.raises(EngineOptionError) as info:
        vllm.launch_command(params(options={"context_length": 10}))
    assert info.value.key == "context_length"


def test_sglang_uses_launch_server_with_tp():
    argv = sglang.launch_command(params())
    assert argv[:3] == ("python", "-m", "sglang.launch_server")
    assert flag_value(argv, "--model-path") == MODEL
    assert flag_value(argv, "--revision") == REV
    assert flag_value(argv, "--tp") == "2"
    assert flag_value(argv, "--served-model-name") == "llm"


def test_sglang_options_become_flags():
    argv = sglang.launch_command(params(options={"context_length": 4096, "mem_fraction_static": 0.8}))
    assert flag_value(argv, "--context-length") == "4096"
    assert flag_value(argv, "--mem-fraction-static") == "0.8"


def test_sglang_sleep_mode_enables_memory_saver():
    assert "--enable-memory-saver" in sglang.launch_command(params(sleep_mode=True))


def test_sglang_sleep_mode_backs_the_weights_up_to_cpu_and_only_then():
    assert "--enable-weights-cpu-backup" in sglang.launch_command(params(sleep_mode=True))
    assert "--enable-weights-cpu-backup" not in sglang.launch_command(params(sleep_mode=False))


def test_trtllm_always_passes_a_tokenizer():
    argv = trtllm.launch_command(params())
    assert argv[:3] == ("trtllm-serve", "serve", MODEL)
    assert flag_value(argv, "--tokenizer") == MODEL


def test_trtllm_tensor_parallel_uses_tp_size():
    assert flag_value(trtllm.launch_command(params(tensor_parallel=8)), "--tp_size") == "8"


def test_trtllm_builds_with_the_tensorrt_backend():
    assert flag_value(trtllm.launch_command(params()), "--backend") == "tensorrt"


def test_trtllm_without_config_options_runs_trtllm_serve_directly():
    argv = trtllm.launch_command(params(options={"max_batch_size": 8}))
    assert argv[0] == "trtllm-serve" and "--extra_llm_api_options" not in argv
    assert trtllm.launch_env(params(options={"max_batch_size": 8})) == {}


def test_trtllm_quantization_goes_through_a_config_file_written_from_env():
    p = params(options={"quantization": "fp8"})
    argv = trtllm.launch_command(p)
    assert argv[:2] == ("sh", "-c") and trtllm.CONFIG_ENV in argv[2]
    real = argv[4:]
    assert real[:2] == ("trtllm-serve", "serve")
    assert flag_value(real, "--extra_llm_api_options") == trtllm.CONFIG_PATH
    assert "quant_algo: FP8" in trtllm.launch_env(p)[trtllm.CONFIG_ENV]


def test_trtllm_dtype_goes_into_the_config_file():
    env = trtllm.launch_env(params(options={"dtype": "bfloat16"}))
    assert "dtype: bfloat16" in env[trtllm.CONFIG_ENV]


def test_trtllm_batch_options_become_flags():
    argv = trtllm.launch_command(params(options={"max_batch_size": 64, "max_seq_len": 4096}))
    assert flag_value(argv, "--max_batch_size") == "64"
    assert flag_value(argv, "--max_seq_len") == "4096"


def test_transformers_pins_revision_in_the_model_argument():
    argv = transformers.launch_command(params())
    assert argv[:3] == ("transformers", "serve", f"{MODEL}@{REV}")


def test_transformers_device_and_dtype_become_flags():
    argv = transformers.launch_command(params(options={"device": "cpu", "dtype": "float32"}))
    assert flag_value(argv, "--device") == "cpu"
    assert flag_value(argv, "--dtype") == "float32"


def test_transformers_path_model_is_passed_as_is():
    argv = transformers.launch_command(params(model="/models/tiny", revision=None))
    assert argv[2] == "/models/tiny"


def test_a_servers_settings_become_options_unless_they_are_the_engines_defaults():
    from engine.blueprint.model import ContainerSpec, ServerSpec
    from engine.engines.common import SERVING_SETTINGS

    server = ServerSpec(
        key="chat",
        symbol="Chat",
        name="chat",
        engine="vllm",
        model=MODEL,
        served_model_name="llm",
        container=ContainerSpec(image="i"),
        command=(),
        revision=REV,
        context_length=4096,
        max_sequences=256,
        engine_defaults=tuple(name for name in SERVING_SETTINGS if name != "context_length"),
        engine_options={"enable_prefix_caching": "false"},
    )
    argv = vllm.ENGINE.command(server)
    assert flag_value(argv, "--max-model-len") == "4096" and "--max-num-seqs" not in argv
    assert "--no-enable-prefix-caching" in argv and "--enable-prefix-caching" not in argv
