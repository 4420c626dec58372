"""Python symbol names for the objects the entry module binds.

Modal's container finds each function by `getattr(entry_module, implementation_name)`, so every
symbol must be a plain identifier, unique, and the same on every run (stable across deploys, so
a redeploy updates the same function instead of adding one). Classes (servers) are CamelCase,
functions snake_case, both derived from the manifest key alone: `chat-api` -> `ChatApi` /
`chat_api`. Modal names stay the manifest keys (Modal accepts `[A-Za-z0-9._-]`), which is what
`modal.Function.from_name(app, key)` and the dashboard show.
"""

from __future__ import annotations

import keyword
import re

_WORD = re.compile(r"[A-Za-z0-9]+")

# Names engine/entry.py already binds at module level (a function bound under one of them would
# shadow it), plus a few a reader would expect to mean the obvious module.
RESERVED = frozenset(
    {
        "app",
        "modal",
        "build_app",
        "blueprint_for_deploy",
        "plan_for_deploy",
        "blueprint_in_container",
        "os",
        "sys",
        "json",
        "main",
    }
)


def class_symbol(key: str) -> str:
    """`chat-api` -> `ChatApi`; `70b` -> `Service70b` (an identifier cannot start with a digit)."""
    words = _WORD.findall(key)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Service"
    return _valid(f"Service{name}" if name[0].isdigit() else name)


def function_symbol(key: str) -> str:
    """`embed-http` -> `embed_http`; `3d.render` -> `fn_3d_render`."""
    name = "_".join(w.lower() for w in _WORD.findall(key)) or "fn"
    return _valid(f"fn_{name}" if name[0].isdigit() else name)


def _valid(name: str) -> str:
    if keyword.iskeyword(name) or name in RESERVED:
        return f"{name}_"
    return name


def free_key(wanted: str, taken: set[str]) -> str:
    """A Blueprint key not in `taken`: `wanted`, else `wanted-2`, `wanted-3`... (for objects the
    planner adds beside the manifest's own: engine images, cache volumes, the fallback image)."""
    key, n = wanted, 1
    while key in taken:
        n += 1
        key = f"{wanted}-{n}"
    return key


class SymbolTable:
    """Hands out unique symbols in call order; a clash gets `_2`, `_3`... (deterministic, since
    the planner visits objects in manifest order)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, wanted: str) -> str:
        name, n = wanted, 1
        while name in self._taken:
            n += 1
            name = f"{wanted}_{n}"
        self._taken.add(name)
        return name
