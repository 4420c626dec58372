"""Python source fragments for values: literals, durations, identifiers.

Everything eject writes goes through here, so the output is deterministic (mappings in sorted
order, one quoting style) and always valid Python. Strings are double-quoted like Modal's own
examples; JSON's escapes (`\\"`, `\\\\`, `\\n`, `\\uXXXX`) are also Python's, so `json.dumps` gives a
correct Python string literal.
"""

from __future__ import annotations

import json
import keyword
import re

MINUTE = 60
HOUR = 60 * MINUTE


def py_str(text: str) -> str:
    if '"' in text and "'" not in text and "\\" not in text:
        return repr(text)  # JSON text reads better without escaped double quotes
    return json.dumps(text, ensure_ascii=False)


def py_literal(value: object) -> str:
    """A Python literal for JSON-like data: str, int, float, bool, None, list/tuple, dict, and
    bytes (a class parameter's default)."""
    if value is None or isinstance(value, (bool, bytes)):
        return repr(value)
    if isinstance(value, str):
        return py_str(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{py_str(str(k))}: {py_literal(value[k])}" for k in sorted(value))
        return "{" + items + "}"
    raise TypeError(f"no Python literal for {type(value).__name__}")


def py_duration(seconds: int) -> str:
    """Seconds as Modal's examples write them: `15 * MINUTES`, `2 * HOURS`, or a bare number."""
    if seconds >= HOUR and seconds % HOUR == 0:
        count = seconds // HOUR
        return "HOURS" if count == 1 else f"{count} * HOURS"
    if seconds >= MINUTE and seconds % MINUTE == 0:
        count = seconds // MINUTE
        return "MINUTES" if count == 1 else f"{count} * MINUTES"
    return str(seconds)


def py_identifier(text: str, *, suffix: str = "") -> str:
    """A readable identifier from a manifest key: `hf-cache` + `_vol` -> `hf_cache_vol`."""
    name = re.sub(r"\W", "_", text).strip("_").lower() or "obj"
    if name[0].isdigit():
        name = "_" + name
    name = f"{name}{suffix}"
    return name + "_" if keyword.iskeyword(name) else name


def py_constant(text: str) -> str:
    return py_identifier(text).strip("_").upper()


def indent(text: str, levels: int = 1) -> str:
    pad = "    " * levels
    return "\n".join(pad + line if line else line for line in text.splitlines())


def call(target: str, args: list[str], kwargs: list[tuple[str, str]], *, width: int = 99) -> str:
    """`target(arg, key=value)` on one line when it fits, else one argument per line."""
    parts = [*args, *(f"{key}={value}" for key, value in kwargs)]
    one_line = f"{target}({', '.join(parts)})"
    if len(one_line) <= width and "\n" not in one_line:
        return one_line
    # A part that is itself multi-line (a volumes mapping) keeps its shape, one level deeper.
    body = "".join("    " + part.replace("\n", "\n    ") + ",\n" for part in parts)
    return f"{target}(\n{body})"


def mapping(pairs: list[tuple[str, str]], *, width: int = 80) -> str:
    """A dict display from (key source, value source) pairs, kept in the given order."""
    one_line = "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    if len(one_line) <= width:
        return one_line
    return "{\n" + "".join(f"    {k}: {v},\n" for k, v in pairs) + "}"
