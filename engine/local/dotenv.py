"""Read a `.env` file: `KEY=value` lines, the format docker compose and python-dotenv share.

Supported: blank lines and `#` comments, an optional `export ` prefix, values in single quotes
(literal) or double quotes (`\\n`, `\\"`, `\\\\` escapes), unquoted values with a trailing ` #`
comment. No variable expansion: a secret value is taken as written.
"""

from __future__ import annotations

import re
from pathlib import Path

from engine.errors import UserError

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def parse_dotenv(text: str, source: str = ".env") -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not _KEY.match(key):
            # Never echo the line: it may hold a secret.
            raise UserError(f"{source}:{number}: expected KEY=value")
        values[key] = _parse_value(value.strip(), source, number)
    return values


def read_dotenv(path: Path) -> dict[str, str]:
    """The file's values, or {} when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    return parse_dotenv(text, str(path))


def _parse_value(value: str, source: str, number: int) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1) if quote == "'" else _closing_double_quote(value)
        if end < 0:
            raise UserError(f"{source}:{number}: unclosed {quote} quote")
        inner = value[1:end]
        if quote == '"':
            inner = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), inner)
        return inner
    comment = value.find(" #")
    return (value[:comment] if comment >= 0 else value).rstrip()


def _closing_double_quote(value: str) -> int:
    index = 1
    while index < len(value):
        if value[index] == "\\":
            index += 2
            continue
        if value[index] == '"':
            return index
        index += 1
    return -1
