"""`adapters:` of an llm service: LoRA adapters, each a `models:` entry, that the engine loads at
start beside the base model and serves under a name of their own (clients send it as "model").

Two forms: a list of model keys (each adapter is served under its key), or a mapping from the
served name to the model key, for when the name clients use should differ from the key. The
names reach the engine's command as NAME=PATH (engine/engines/vllm.py, sglang.py),
so a name holds no `=` and no spaces. Whether the engine loads adapters at all, and whether the
keys are declared, is checked where the engine and the `models:` section are known (the planner,
weights.py).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field

from engine.manifest.models.base import TupleOf, fail
from engine.manifest.source import KeyPath

_NAME_RE = re.compile(r"^[^\s=]+$")

AdaptersField = Annotated[
    TupleOf[Annotated[str, Field(min_length=1)]] | dict[str, Annotated[str, Field(min_length=1)]],
    Field(
        description='LoRA adapters the engine loads beside `model` (vLLM, SGLang): keys of `models`, each served under its key, or {served name: model key}. Requests send the name as "model".'
    ),
]


def adapter_items(value: Any) -> list[tuple[str, str, KeyPath]]:
    """(served name, model key, manifest path below `adapters`) of each adapter, in order."""
    if isinstance(value, dict):
        return [(name, key, (name,)) for name, key in value.items()]
    return [(key, key, (index,)) for index, key in enumerate(value or ())]


def check_adapters(value: Any) -> None:
    """Each name once, none spelled so the engine would misread it (a name that is also the base
    model's is refused by the planner, which knows every name the server answers to)."""
    seen: set[str] = set()
    for name, _key, at in adapter_items(value):
        where = ("adapters", *at)
        if not _NAME_RE.match(name):
            raise fail(
                f"adapter name {name!r} cannot be passed to the engine: it holds '=' or a space",
                hint="name it with letters, digits, '-', '_' or '.' (the mapping form sets a name of your own)",
                at=where,
            )
        if name in seen:
            raise fail(
                f"adapter {name!r} is listed twice",
                hint="list each adapter once; to serve the same weights under two names use the mapping form",
                at=where,
            )
        seen.add(name)
