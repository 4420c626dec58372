"""A Hugging Face `config.json` (a dict) -> the `ModelShape` the fit arithmetic needs.

Key names follow `transformers`: `num_hidden_layers`, `num_attention_heads`,
`num_key_value_heads` (absent: no grouped-query attention, as many KV heads as heads),
`head_dim` (absent: hidden_size / heads), `max_position_embeddings`. Multimodal configs keep the
language model's keys under `text_config`. When the weights' parameter count is not known (no
safetensors metadata), it is estimated from the config for a Llama-style decoder.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.preflight.fit import ModelShape


class ModelConfigError(ValueError):
    """The config lacks a key the arithmetic needs; the message names it."""


def text_config(config: Mapping[str, Any]) -> Mapping[str, Any]:
    inner = config.get("text_config")
    if "num_hidden_layers" not in config and isinstance(inner, Mapping):
        return inner
    return config


def shape_from_config(config: Mapping[str, Any], parameters: int | None = None) -> ModelShape:
    cfg = text_config(config)
    layers = _required_int(cfg, "num_hidden_layers")
    heads = _required_int(cfg, "num_attention_heads")
    kv_heads = int(cfg.get("num_key_value_heads") or heads)
    head_dim = cfg.get("head_dim") or _required_int(cfg, "hidden_size") // heads
    max_context = cfg.get("max_position_embeddings")
    estimated = parameters is None
    return ModelShape(
        parameters=estimate_parameters(cfg) if parameters is None else parameters,
        layers=layers,
        kv_heads=kv_heads,
        head_dim=int(head_dim),
        max_context=int(max_context) if max_context else None,
        parameters_estimated=estimated,
    )


def checkpoint_dtype(config: Mapping[str, Any]) -> str:
    """The dtype the weights are stored in (what "auto" means); bfloat16 when unstated."""
    cfg = text_config(config)
    return str(config.get("torch_dtype") or cfg.get("torch_dtype") or config.get("dtype") or "bfloat16")


def estimate_parameters(cfg: Mapping[str, Any]) -> int:
    """Parameters of a Llama-style decoder: embeddings, attention, gated MLP (per expert), norms.

    Accurate to a few percent for Llama, Qwen, Mistral and Mixtral-style models; other
    architectures are approximations, which the report says.
    """
    hidden = _required_int(cfg, "hidden_size")
    layers = _required_int(cfg, "num_hidden_layers")
    heads = _required_int(cfg, "num_attention_heads")
    kv_heads = int(cfg.get("num_key_value_heads") or heads)
    head_dim = int(cfg.get("head_dim") or hidden // heads)
    vocab = _required_int(cfg, "vocab_size")
    intermediate = int(cfg.get("moe_intermediate_size") or cfg.get("intermediate_size") or 4 * hidden)
    experts = int(cfg.get("num_local_experts") or cfg.get("num_experts") or cfg.get("n_routed_experts") or 1)

    attention = hidden * heads * head_dim * 2 + hidden * kv_heads * head_dim * 2  # q, o; k, v
    mlp = 3 * hidden * intermediate * experts  # gate, up, down
    router = hidden * experts if experts > 1 else 0
    norms = 2 * hidden
    embeddings = vocab * hidden * (1 if cfg.get("tie_word_embeddings") else 2)
    return layers * (attention + mlp + router + norms) + embeddings + hidden


def _required_int(cfg: Mapping[str, Any], key: str) -> int:
    value = cfg.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ModelConfigError(f"model config has no usable {key!r}")
    return value
