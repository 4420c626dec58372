"""A `kind: server` command's placeholders, filled: `${PORT}`, `${HOST}`, and `$$` for a `$`.

Shared by the planner (the container's command) and the local runner (this machine's address),
so both fill the same template the same way. Standard library only: it is on the container's
import path. The manifest model refuses any other placeholder before a template gets here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

PLACEHOLDERS = ("PORT", "HOST")
CONTAINER_HOST = "0.0.0.0"  # Modal's proxy reaches the server from outside its loopback
_TOKEN = re.compile(r"\$\$|\$\{([A-Z]+)\}")


def fill_command(template: Sequence[str], *, port: int, host: str) -> tuple[str, ...]:
    values = {"PORT": str(port), "HOST": host}

    def replace(match: re.Match[str]) -> str:
        return "$" if match.group(0) == "$$" else values[match.group(1)]

    return tuple(_TOKEN.sub(replace, arg) for arg in template)


def uses_placeholder(template: Sequence[str], name: str) -> bool:
    return any(f"${{{name}}}" in arg.replace("$$", "") for arg in template)
