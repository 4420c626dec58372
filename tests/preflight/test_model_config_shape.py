"""config.json (written by hand here; never fetched in tests) -> the model's shape."""

from __future__ import annotations

import pytest

from engine.preflight.model_config import ModelConfigError, checkpoint_dtype, estimate_parameters, shape_from_config

# The keys of meta-llama/Llama-3.1-8B-Instruct's config.json that matter here.
LLAMA_8B_CONFIG = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 131072,
    "vocab_size": 128256,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
}


def test_shape_reads_layers_kv_heads_and_head_dim():
    shape = shape_from_config(LLAMA_8B_CONFIG, parameters=8_030_261_248)
    assert (shape.layers, shape.kv_heads, shape.head_dim, shape.max_context) == (32, 8, 128, 131072)
    assert not shape.parameters_estimated


def test_missing_kv_heads_means_one_per_attention_head():
    config = {**LLAMA_8B_CONFIG}
    del config["num_key_value_heads"]
    assert shape_from_config(config, 1).kv_heads == 32


def test_explicit_head_dim_wins_over_hidden_size_division():
    assert shape_from_config({**LLAMA_8B_CONFIG, "head_dim": 256}, 1).head_dim == 256


def test_multimodal_config_reads_the_text_config():
    assert shape_from_config({"text_config": LLAMA_8B_CONFIG}, 1).layers == 32


def test_parameter_estimate_of_llama_8b_is_within_one_percent():
    assert abs(estimate_parameters(LLAMA_8B_CONFIG) - 8_030_261_248) / 8_030_261_248 < 0.01


def test_shape_without_a_count_is_marked_estimated():
    assert shape_from_config(LLAMA_8B_CONFIG).parameters_estimated


def test_missing_layer_count_is_named():
    config = {k: v for k, v in LLAMA_8B_CONFIG.items() if k != "num_hidden_layers"}
    with pytest.raises(ModelConfigError, match="num_hidden_layers"):
        shape_from_config(config, 1)


def test_checkpoint_dtype_defaults_to_bfloat16():
    assert checkpoint_dtype({}) == "bfloat16"
    assert checkpoint_dtype({"torch_dtype": "float16"}) == "float16"
