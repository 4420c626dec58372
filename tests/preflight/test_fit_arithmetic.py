"""The fit arithmetic on its own: numbers in, numbers out, no Hub and no Modal."""

from __future__ import annotations

import pytest

from engine.preflight.fit import (
    GIB,
    ModelShape,
    UnknownSizeError,
    bytes_per_parameter,
    check_fit,
    gpu_memory_bytes,
    gpu_memory_table,
    kv_cache_bytes,
    weights_bytes,
)

# Llama-3.1-8B's published shape: 32 layers, 8 KV heads of 128 dims, ~8.03e9 parameters.
LLAMA_8B = ModelShape(parameters=8_030_261_248, layers=32, kv_heads=8, head_dim=128, max_context=131072)


def test_weights_are_parameters_times_bytes_per_parameter():
    assert weights_bytes(1_000, 2) == 2_000


def test_bf16_weights_of_an_8b_model_are_about_15_gib():
    assert 14.9 < weights_bytes(LLAMA_8B.parameters, bytes_per_parameter("bfloat16")) / GIB < 15.0


def test_quantization_width_overrides_the_dtype():
    assert bytes_per_parameter("bfloat16", "awq") == 0.5
    assert bytes_per_parameter("bfloat16", "fp8") == 1


def test_unknown_dtype_is_named_in_the_error():
    with pytest.raises(UnknownSizeError, match="'float7'"):
        bytes_per_parameter("float7")


def test_kv_cache_is_two_times_layers_heads_dim_bytes_context_sequences():
    # 2 * 32 * 8 * 128 * 2 bytes = 128 KiB per token
    assert kv_cache_bytes(LLAMA_8B, 2, context=1, sequences=1) == 131072
    assert kv_cache_bytes(LLAMA_8B, 2, context=8192, sequences=4) == 131072 * 8192 * 4


def test_gpu_request_memory_is_per_gpu_memory_times_count():
    kind, count, total = gpu_memory_bytes("H100:2")
    assert (kind, count, total) == ("H100", 2, 160 * GIB)


def test_gpu_without_count_means_one():
    assert gpu_memory_bytes("L4")[1:] == (1, 24 * GIB)


def test_every_allowed_modal_gpu_has_a_memory_size():
    from engine.manifest.models.shorthands import GPU_TYPES

    assert set(GPU_TYPES) <= set(gpu_memory_table())


def test_unknown_gpu_is_named_in_the_error():
    with pytest.raises(UnknownSizeError, match="'Z80'"):
        gpu_memory_bytes("Z80")


def _fit(gpu: str, context: int, sequences: int, fraction: float = 0.9):
    return check_fit(
        LLAMA_8B,
        weight_bytes_per_param=2,
        kv_element_bytes=2,
        context=context,
        sequences=sequences,
        gpu_bytes=gpu_memory_bytes(gpu)[2],
        memory_fraction=fraction,
    )


def test_budget_is_gpu_memory_times_utilization():
    assert _fit("H100", 8192, 1, fraction=0.5).budget_bytes == 40 * GIB


def test_8b_bf16_with_short_context_fits_an_h100_for_all_sequences():
    report = _fit("H100", 8192, 32)
    assert report.starts and report.fits_all_sequences


def test_8b_bf16_does_not_start_on_an_l4_at_full_context():
    # 15 GiB of weights + 16 GiB for one 131072-token sequence > 21.6 GiB usable
    report = _fit("L4", 131072, 1)
    assert not report.starts


def test_too_many_full_context_sequences_start_but_not_all_fit():
    report = _fit("H100", 131072, 256)
    assert report.starts and not report.fits_all_sequences
    # (72 GiB - 14.96 GiB) / 16 GiB per sequence
    assert report.sequences_that_fit == 3


def test_more_gpus_hold_more_sequences():
    assert _fit("H100:2", 131072, 256).sequences_that_fit > _fit("H100", 131072, 256).sequences_that_fit
