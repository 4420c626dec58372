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
- A server's `command` (`services.KEY.command`) is left alone: its `${PORT}` and `${HOST}` are
  placeholders the planner fills, and its own model refuses any other (models/server.py).

Types after substitution: an unquoted (plain) YAML scalar that contained a reference is typed again
by the YAML 1.2 core rules (`port: ${PORT}` with PORT=8000 is the integer 8000; an empty result is
null, as an empty plain scalar is in YAML). Quoted YAML strings and TOML strings stay strings,
except a TOML string that is exactly one reference (`port = "${PORT}"`), which is typed like a
plain YAML scalar, since TOML has no unquoted form to ask for that.

Credentials never come in through a variable: a reference whose NAME looks like a credential
(`${HF_TOKEN}`, `${AWS_SECRET_ACCESS_KEY}`; the table is in credential_names.py) is refused whether
the variable is set or not, and so is a reference whose VALUE (the variable's, or the default when
it is unset or empty) looks like one (secrets_scan.py). Both messages name the variable, never its
value. Every other value produced by a variable is shown to humans as the text the manifest wrote:
`Layer.interpolated` maps the path of each such value to that text (`${GPU:-A100}`), so that later
steps (messages, plans, diffs, explain) can show the reference instead of the value.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, Literal

from engine.manifest.credential_names import HINT as CREDENTIAL_HINT
from engine.manifest.credential_names import credential_kind
from engine.manifest.errors import ManifestError, Problem
from engine.manifest.models.secrets_scan import secret_kind
from engine.manifest.source import KeyPath, Layer, format_path, location_of
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


class _Credential(Exception):
    """A reference that would bring a credential into the manifest: by its name, or by its value."""

    def __init__(self, name: str, message: str):
        self.name = name
        self.message = message


def _check_name(name: str) -> None:
    kind = credential_kind(name)
    if kind is not None:
        raise _Credential(name, f"${{{name}}} names {kind}: credentials are never read into a manifest")


def _check_value(name: str, value: str) -> None:
    what = secret_kind(value, in_env=True)
    if what is not None:
        raise _Credential(
            name,
            f"the value of ${{{name}}} looks like a credential ({what}): credentials are never read into a manifest",
        )


def _tokens(text: str) -> Iterator[tuple[Literal["text"], str] | tuple[Literal["ref"], str, str | None]]:
    """The pieces of `text` in order: ("text", literal) and ("ref", name, default or None).

    The one reading of the syntax: `substitute` expands it, `template_parts` hands it to eject.
    Raises _Malformed.
    """
    i, n = 0, len(text)
    while i < n:
        start = text.find("$", i)
        if start < 0:
            yield ("text", text[i:])
            return
        if start > i:
            yield ("text", text[i:start])
        after = text[start + 1 : start + 2]
        if after == "$":
            yield ("text", "$")
            i = start + 2
        elif after == "{":
            close = text.find("}", start + 2)
            if close < 0:
                raise _Malformed(text[start : start + 2])
            m = _REFERENCE_BODY.fullmatch(text, start + 2, close)
            if m is None:
                raise _Malformed(text[start : close + 1])
            yield ("ref", m.group("name"), m.group("default"))
            i = close + 1
        else:
            yield ("text", "$")
            i = start + 1


def substitute(text: str, environ: Mapping[str, str]) -> tuple[str, bool]:
    """Expand one string; returns (result, whether any `${...}` reference was expanded).

    Raises _Unset, _Malformed or _Credential (turned into located problems by `interpolate_layer`).
    """
    out: list[str] = []
    expanded = False
    for token in _tokens(text):
        if token[0] == "text":
            out.append(token[1])
            continue
        _, name, default = token
        _check_name(name)  # before the lookup: an unset credential is refused, not asked for
        value = environ.get(name)
        if default is not None and not value:
            value = default
        elif value is None:
            raise _Unset(name)
        _check_value(name, value)
        out.append(value)
        expanded = True
    return "".join(out), expanded


def template_parts(text: str) -> tuple[str | tuple[str, str | None], ...]:
    """`db-${STAGE:-dev}.internal` -> ("db-", ("STAGE", "dev"), ".internal"): literal text and
    (variable, default) pairs, adjacent literals joined, for code that rebuilds the value
    elsewhere (an ejected app reads the variables from the deploying shell)."""
    parts: list[str | tuple[str, str | None]] = []
    for token in _tokens(text):
        if token[0] == "text" and parts and isinstance(parts[-1], str):
            parts[-1] += token[1]
        else:
            parts.append(token[1] if token[0] == "text" else (token[1], token[2]))
    return tuple(parts)


def _string_paths(data: object, path: KeyPath = ()) -> Iterator[tuple[KeyPath, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _string_paths(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _string_paths(value, path + (index,))
    elif isinstance(data, str) and "$" in data:
        yield path, data


def _is_server_command(path: KeyPath) -> bool:
    return len(path) == 4 and path[0] == "services" and path[2] == "command"


def _child(node: object, part: str | int) -> object:
    """`node[part]` of parsed manifest data (mappings and lists); KeyError/IndexError/TypeError
    when there is none, as indexing raises."""
    if isinstance(node, dict):
        return node[part]
    if isinstance(node, list) and isinstance(part, int):
        return node[part]
    raise TypeError(f"no {part!r} in a {type(node).__name__}")


def _set(data: dict[str, Any], path: KeyPath, value: object) -> None:
    """Replace the value at `path`, a path `_string_paths` found in `data`."""
    parent = data if len(path) == 1 else _child_at(data, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list) and isinstance(last, int):
        parent[last] = value
    else:
        raise TypeError(f"no {last!r} in a {type(parent).__name__}")


def _child_at(data: object, path: KeyPath) -> object:
    node = data
    for part in path:
        node = _child(node, part)
    return node


def _retyped(layer: Layer, path: KeyPath, original: str) -> bool:
    if layer.format == "toml":
        return _ONE_REFERENCE.fullmatch(original) is not None
    return path in layer.plain_scalars


def interpolate_layer(layer: Layer, environ: Mapping[str, str]) -> Layer:
    """A copy of `layer` with every string value expanded; all problems raised together, located."""
    data = copy.deepcopy(layer.data)
    interpolated = dict(layer.interpolated)
    problems: list[Problem] = []
    for path, text in list(_string_paths(layer.data)):
        if _is_server_command(path):
            continue
        where = location_of(layer.spans, path, layer.file)
        dotted = format_path(path)
        try:
            result, expanded = substitute(text, environ)
        except _Unset as unset:
            problems.append(
                Problem(
                    where,
                    dotted,
                    f"environment variable {unset.name} is not set",
                    f"set it, or give a default: ${{{unset.name}:-value}}",
                )
            )
            continue
        except _Malformed as bad:
            problems.append(Problem(where, dotted, f"malformed reference {bad.reference!r}", _SYNTAX_HINT))
            continue
        except _Credential as refused:
            problems.append(Problem(where, dotted, refused.message, CREDENTIAL_HINT.format(var=refused.name)))
            continue
        value: object = result
        if expanded:
            interpolated[path] = text
            if _retyped(layer, path, text):
                value = resolve_plain_scalar(result)
        _set(data, path, value)
    if problems:
        raise ManifestError(problems)
    return replace(layer, data=data, interpolated=interpolated)


def _value_at(data: object, path: KeyPath) -> tuple[bool, object]:
    try:
        return True, _child_at(data, path)
    except (KeyError, IndexError, TypeError):
        return False, None


def _forms(value: object) -> list[str]:
    """How a message may spell `value`: quoted (repr, JSON, truncated as messages shorten it), bare."""
    if isinstance(value, str):
        forms = [repr(value), f'"{value}"']
        if len(value) > 40:
            forms.append(repr(value[:37] + "..."))
        return forms + ([value] if len(value) >= 3 else [])
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return []  # "true", "null", "a list": words every message uses; they reveal nothing
    text = str(value)
    return [text] if len(text) >= 2 else []


def hide_variable_values(text: str | None, data: object, interpolated: Mapping[KeyPath, str]) -> str | None:
    """`text` (a message or hint) with every value that came from a variable replaced, whole, by
    the reference the manifest wrote (`unknown GPU type ${GPU}`). One pass, longest spelling first,
    so a reference put in is never rewritten again; bare spellings only as whole words."""
    if not text or not interpolated:
        return text
    replacements: dict[str, str] = {}
    for path, template in interpolated.items():
        found, value = _value_at(data, path)
        if found:
            for form in _forms(value):
                replacements.setdefault(form, template)
    if not replacements:
        return text
    alternatives = sorted(replacements, key=len, reverse=True)
    pattern = re.compile(
        "|".join(
            re.escape(form) if form[:1] in "'\"" else rf"(?<![\w.-]){re.escape(form)}(?![\w-])" for form in alternatives
        )
    )
    return pattern.sub(lambda m: replacements[m.group(0)], text)
