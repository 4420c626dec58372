"""What the loader hands on: one file's data with the position of every key and value.

A `Layer` is one manifest file (a base or an overlay) turned into plain Python data (dict, list,
str, int, float, bool, None; never a parser's own types), together with a `Span` for every path
in it, so that any later step can say `file:line:col` about any value. Paths are tuples of
mapping keys (str) and list indices (int); `()` is the document root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.manifest.errors import Location, Problem

KeyPath = tuple[str | int, ...]
"""A path into manifest data: mapping keys and list indices; `()` is the document root."""

# Limits that keep a hostile or broken file from exhausting memory, time or the stack.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_USES = 20


@dataclass(frozen=True)
class Span:
    """Where a path sits in its file: its key (None for the root and list items) and its value."""

    key: Location | None
    value: Location


@dataclass
class Layer:
    """One manifest file as data, with positions.

    `file` is the display path (as the user gave it, posix style). `format` is "yaml" or "toml".
    `plain_scalars` maps each path whose YAML value was written unquoted (plain) to the text as
    written, so validation can say `quote it: "3.10"` or "write true/false" where YAML 1.2 read
    the text differently than meant (`3.10` is the number 3.1).
    `interpolated` maps each path whose value came (partly) from an environment variable to the
    text the file wrote (`${GPU:-A100}`): humans are shown that text, never the value.
    """

    file: str
    data: dict[str, Any]
    spans: dict[KeyPath, Span]
    plain_scalars: dict[KeyPath, str] = field(default_factory=dict)
    format: str = "yaml"
    interpolated: dict[KeyPath, str] = field(default_factory=dict)


def format_path(path: KeyPath) -> str:
    """`("services", "chat", "gpu")` -> `services.chat.gpu`; list items as `pip[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def located(file: str, line: int, col: int, key: KeyPath | str, message: str, hint: str | None = None) -> Problem:
    """A Problem at 1-based `line`/`col` of `file`, about `key` (a path or an already dotted key)."""
    dotted = key if isinstance(key, str) else format_path(key)
    return Problem(Location(file, line, col), dotted, message, hint)


def location_of(spans: dict[KeyPath, Span], path: KeyPath, file: str) -> Location:
    """The value location of `path`, else of its nearest ancestor that has one, else line 1."""
    probe = tuple(path)
    while True:
        span = spans.get(probe)
        if span is not None:
            return span.value
        if not probe:
            return Location(file, 1, 1)
        probe = probe[:-1]


def is_under(path: KeyPath, prefix: KeyPath) -> bool:
    """True when `path` is `prefix` or lies inside it."""
    return path[: len(prefix)] == prefix
