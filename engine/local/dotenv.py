"""Read a `.env` file with python-dotenv's parser: `KEY=value` lines, the format docker compose
and python-dotenv share (comments, `export `, single quotes literal, double quotes with escapes,
quoted values over several lines).

Two choices of ours on top: no variable expansion (a secret value is taken as written), and a line
the parser cannot read, or a bare `KEY` without `=`, is an error naming the file and line but
never the line's text, which may hold a secret. (`dotenv_values` would log and skip such a line;
`parse_stream` says where it is.)
"""

from __future__ import annotations

import io
from pathlib import Path

from dotenv.parser import parse_stream

from engine.errors import UserError


def parse_dotenv(text: str, source: str = ".env") -> dict[str, str]:
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if binding.key is None and not binding.error:  # a blank or comment line
            continue
        if binding.error or binding.key is None or binding.value is None:
            raise UserError(f"{source}:{binding.original.line}: expected KEY=value")
        values[binding.key] = binding.value
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


def env_file_path(given: str | None) -> Path:
    """The `--env-file` to read: `.env` when none was given (it may well not exist), else the file
    named, which must exist: a mistyped name would otherwise read as "no secrets" and fail later
    on a missing key, far from the typo."""
    if given is None:
        return Path(".env")
    path = Path(given)
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "does not exist"
        raise UserError(f"--env-file {given}: {why}; name a file of KEY=value lines, or leave the option out for .env")
    return path
