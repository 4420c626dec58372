"""The flags the planner sets itself, as each engine's parser reads them, and that the list is whole."""

from __future__ import annotations

import itertools

import pytest

from engine.engines.owned_flags import find_owned_flag, flag_name
from engine.engines.registry import ENGINES, get_engine
from tests.engines.test_engine_launch_commands import params


def owned(engine: str, arg: str, **overrides):
    e = get_engine(engine)
    return find_owned_flag(arg, e.owned_flags, e.flag_syntax, params(**overrides))


ALL_OPTIONS = {
    "vllm": {
        "max_model_len": 4096,
        "gpu_memory_utilization": 0.9,
        "max_num_seqs": 8,
        "dtype": "half",
        "quantization": "awq",
        "enable_prefix_caching": False,
    },
    "sglang": {"context_length": 4096, "mem_fraction_static": 0.8, "dtype": "half", "quantization": "fp8"},
    "trtllm": {
        "max_batch_size": 8,
        "max_num_tokens": 1024,
        "max_seq_len": 2048,
        "dtype": "float16",
        "quantization": "fp8",
    },
    "transformers": {"device": "cpu", "dtype": "float32"},
}


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_every_flag_a_launch_command_writes_is_owned(engine):
    """Whatever the planner writes, extra_args could not write again: the declaration is whole."""
    e = get_engine(engine)
    for fast_boot, sleep_mode, options in itertools.product((False, True), (False, True), ({}, ALL_OPTIONS[engine])):
        p = params(
            fast_boot=fast_boot and e.supports_fast_boot,
            sleep_mode=sleep_mode and e.snapshot is not None,
            options=options,
        )
        argv = e.launch_command(p)
        written = [a for a in argv if a.startswith("--")]
        if e.api_key_flag:
            written.append(e.api_key_flag)
        for flag in written:
            assert find_owned_flag(flag, e.owned_flags, e.flag_syntax, p) is not None, (
                f"{engine}: {flag} is not declared"
            )


@pytest.mark.parametrize(
    ("engine", "arg", "key"),
    [
        ("vllm", "--port", "port"),
        ("vllm", "--port=9000", "port"),
        ("vllm", "--tensor_parallel_size=2", "engine_args.tensor_parallel_size"),
        ("vllm", "-tp", "engine_args.tensor_parallel_size"),
        ("vllm", "-tp=2", "engine_args.tensor_parallel_size"),
        ("vllm", "--max_model_len", "engine_args.max_model_len"),
        ("vllm", "--no-enable-prefix-caching", "engine_args.enable_prefix_caching"),
        ("vllm", "--model", "model.id"),
        ("vllm", "-qawq", "engine_args.quantization"),
        ("vllm", "--served-model", "model.served_name"),  # an argparse abbreviation
        ("sglang", "--tp-size", "engine_args.tensor_parallel_size"),
        ("sglang", "--tensor-parallel-size=4", "engine_args.tensor_parallel_size"),
        ("sglang", "--model", "model.id"),
        ("sglang", "--api-key", "auth.api_key_secret"),
        ("trtllm", "--tp_size", "engine_args.tensor_parallel_size"),
        ("trtllm", "--tensor_parallel_size=1", "engine_args.tensor_parallel_size"),
        ("transformers", "--dtype=float16", "engine_args.dtype"),
    ],
)
def test_owned_flag_is_found_in_each_spelling(engine, arg, key):
    flag = owned(engine, arg)
    assert flag is not None and flag.key == key


@pytest.mark.parametrize(
    ("engine", "arg"),
    [
        ("vllm", "--seed"),
        ("vllm", "--max-num-batched-tokens=4096"),
        ("vllm", "0"),
        ("vllm", "-1"),
        ("sglang", "--model-impl"),  # starts like an owned flag, but is another one
        ("sglang", "--disable-cuda-graph-padding"),
        ("trtllm", "--tp"),  # click takes no abbreviations: not trtllm's tensor-parallel flag
        ("trtllm", "--max-batch-size"),  # click keeps underscores: an unknown flag, not ours
        ("transformers", "--trust-remote-code"),
    ],
)
def test_other_flags_and_values_pass(engine, arg):
    assert owned(engine, arg) is None


def test_host_is_owned_though_no_key_decides_it():
    flag = owned("vllm", "--host=127.0.0.1")
    assert flag.key is None and "0.0.0.0" in flag.hint("chat")


def test_snapshot_flags_are_owned_only_when_the_planner_writes_them():
    assert owned("sglang", "--enable-memory-saver", sleep_mode=False) is None
    assert owned("sglang", "--enable-memory-saver", sleep_mode=True).key == "memory_snapshot"


def test_trtllm_config_file_flag_is_owned_only_when_mdeploy_writes_the_file():
    assert owned("trtllm", "--config") is None
    assert owned("trtllm", "--config", options={"dtype": "float16"}) is not None


def test_flag_name_ignores_values():
    assert [flag_name(a) for a in ("--port=1", "-tp", "8000", "-1", "--")] == ["--port", "-tp", None, None, None]
