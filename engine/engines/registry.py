"""The engines by name: the one place that knows which engine modules exist."""

from __future__ import annotations

from engine.engines import sglang, transformers, trtllm, vllm
from engine.engines.common import Engine

ENGINES: dict[str, Engine] = {e.name: e for e in (vllm.ENGINE, sglang.ENGINE, trtllm.ENGINE, transformers.ENGINE)}


def get_engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        raise KeyError(f"unknown engine {name!r}; known: {', '.join(sorted(ENGINES))}") from None
