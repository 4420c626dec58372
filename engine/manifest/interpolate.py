"""Environment variables in string values: `${VAR}`, `${VAR:-default}` and `$$`.

The rules, all applied in one left-to-right pass over each string VALUE (keys are never touched):

- `${NAME}` is the variable's value; an unset variable is a located error naming it.
- `${NAME:-default}` is the default when NAME is unset or empty (as in the shell). The default
  runs to the first `}`, so it cannot contain one.
- `$$` is a literal `$` (write `$${HOME}` to keep `${HOME}` for a shell in the container).
- A `$` not followed by `{` or `$` is literal text (`echo $HOME` passes through unchanged).
- `${` that does not form a reference (`${`, `${}`, `${1X}`, `${A B}`, `${A-b}`) is an error:
  it is almost always a typo, and `$$` says "literal" explicitly.
- No recursion: text that a variable or a default brings in is never expanded again.

Types after substitution: an unquoted (plain) YAML scalar that contained a reference is typed again
by the YAML 1.2 core rules (`port: ${PORT}` with PORT=8000 is the integer 8000; an empty result is
null, as an empty plain scalar is in YAML). Quoted YAML strings and TOML strings stay strings,
except a TOML string that is exactly one reference (`port = "${PORT}"`), which is typed like a
plain YAML scalar, since TOML has no unquoted form to ask for that.

A value produced by a variable may be a secret: messages name the variable, never its value, and
the paths of such values are kept in `Layer.interpolated` for later steps to honour the same rule.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import replace

from engine.manifest.errors import ManifestError, Problem
from engine.manifest.source import Layer, format_path, location_of
from engine.manifest.yaml_reader import resolve_plain_scalar

_REFERENCE_BODY = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?")
_ONE_REFERENCE = re.compile(r"\$\{[^}]*\}")
_SYNTAX_HINT = "write ${NAME} or ${NAME:-default}; write $$ for a literal $"


class _Unset(Exception):
    def __init__(self, name: str):
        self.name = name


class _Malformed(Exception):
    def __init__(self, reference: str):
        self.reference = reference


def substitute(text: str, environ: Mapping[str, str]) -> tuple[str, bool]:
    """Expand one string; returns (result, whether any `${...}` reference was expanded).

    Raises _Unset or _Malformed (turned into located problems by `interpolate_layer`).
    """
    out: list[str] = []
    expanded = False
    i, n = 0, len(text)
    while i < n:
        start = text.find("$", i)
        if start < 0:
            out.append(text[i:])
            break
        out.append(text[i:start])
        after = text[start + 1 : start + 2]
        if after == "$":
            out.append("$")
            i = start + 2
        elif after == "{":
            close = text.find("}", start + 2)
            if close < 0:
                raise _Malformed(text[start : start + 2])
            m = _REFERENCE_BODY.fullmatch(text, start + 2, close)
            if m is None:
                raise _Malformed(text[start : close + 1])
            name, default = m.group("name"), m.group("default")
            value = environ.get(name)
            if default is not None and not value:
                value = default
            elif value is None:
                raise _Unset(name)
            out.append(value)
            expanded = True
            i = close + 1
        else:
            out.append("$")
            i = start + 1
    return "".join(out), expanded


def _string_paths(data: object, path: tuple = ()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _string_paths(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _string_paths(value, path + (index,))
    elif isinstance(data, str) and "$" in data:
        yield path, data


def _set(data: dict, path: tuple, value: object) -> None:
    node: object = data
    for part in path[:-1]:
        node = node[part]  # type: ignore[index]
    node[path[-1]] = value  # type: ignore[index]


def _retyped(layer: Layer, path: tuple, original: str) -> bool:
    if layer.format == "toml":
        return _ONE_REFERENCE.fullmatch(original) is not None
    return path in layer.plain_scalars


def interpolate_layer(layer: Layer, environ: Mapping[str, str]) -> Layer:
    """A copy of `layer` with every string value expanded; all problems raised together, located."""
    data = copy.deepcopy(layer.data)
    interpolated = set(layer.interpolated)
    problems: list[Problem] = []
    for path, text in list(_string_paths(layer.data)):
        where = location_of(layer.spans, path, layer.file)
        dotted = format_path(path)
        try:
            result, expanded = substitute(text, environ)
        except _Unset as unset:
            problems.append(Problem(where, dotted, f"environment variable {unset.name} is not set",
                                    f"set it, or give a default: ${{{unset.name}:-value}}"))
            continue
        except _Malformed as bad:
            problems.append(Problem(where, dotted, f"malformed reference {bad.reference!r}", _SYNTAX_HINT))
            continue
        value: object = result
        if expanded:
            interpolated.add(path)
            if _retyped(layer, path, text):
                value = resolve_plain_scalar(result)
        _set(data, path, value)
    if problems:
        raise ManifestError(problems)
    return replace(layer, data=data, interpolated=interpolated)

