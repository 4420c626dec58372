"""An engine's configuration file: `engine_args.config`, a mapping written as YAML that the engine
reads at start (SGLang's `--config`, trtllm-serve's `--extra_llm_api_options`).

A launch command cannot ship a file, and the server container's image owes us nothing but a
shell: so the file's text travels in an environment variable of the container, and the command is
a small `sh -c` that writes it and then `exec`s the engine unchanged. The plan shows the variable
(the file's content) and the command; eject writes both as they are; nothing in the container's
runtime knows about it.

The mapping reaches the engine modules as canonical JSON text in `ServerSpec.engine_options`
(`format_value`), so the Blueprint stays plain strings; each engine checks its keys against what it
reads (`Engine.check_config`) and writes the YAML itself.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CONFIG_KEY = "config"  # the engine_args key

# A value is written as a plain YAML scalar only when no YAML reader could take it for anything
# but that string; everything else is JSON, which YAML reads as the same value.
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


@dataclass(frozen=True)
class ConfigProblem:
    """A key of engine_args.config the engine would not take; `at` is its path under `config`."""

    at: tuple[str | int, ...]
    message: str
    hint: str | None = None


def decode(text: str) -> dict[str, object]:
    """The mapping `engine_options["config"]` holds (canonical JSON, see `format_value`)."""
    value = json.loads(text)
    assert isinstance(value, dict), "engine_args.config is a mapping (validated by the manifest model)"
    return value


def to_yaml(mapping: Mapping[str, object], indent: int = 0) -> str:
    """Block-style YAML for a mapping of JSON values, keys in the mapping's order."""
    pad = " " * indent
    lines = []
    for key, value in mapping.items():
        if isinstance(value, Mapping) and value:
            lines.append(f"{pad}{_scalar(key)}:\n{to_yaml(value, indent + 2)}")
        elif isinstance(value, list) and value:
            items = "".join(f"{pad}  - {_scalar(item)}\n" for item in value)
            lines.append(f"{pad}{_scalar(key)}:\n{items}")
        else:
            lines.append(f"{pad}{_scalar(key)}: {_scalar(value)}\n")
    return "".join(lines)


def _scalar(value: object) -> str:
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS:
        return value
    # Nested lists and mappings inside a list, empty ones, numbers, booleans, null: JSON flow style.
    return json.dumps(value, sort_keys=False)


def write_then_exec(argv: Iterable[str], env: str, path: str) -> tuple[str, ...]:
    """`argv` run after the file at `path` is written from variable `env`."""
    # "$@" hands the real argv to exec untouched: no quoting of model ids or extra args; a
    # cluster's rank arguments and secret arguments appended later land in "$@" too.
    script = f'printf "%s" "${env}" > {path} && exec "$@"'
    args = tuple(argv)
    return ("sh", "-c", script, args[0], *args)


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None
