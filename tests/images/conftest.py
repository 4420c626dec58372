"""A throwaway project for image recipes: a root marker, a handler package, local files."""

from __future__ import annotations

from pathlib import Path

import pytest

HANDLERS = '''
def run(text: str = "") -> int:
    return len(text)


def fetch() -> None:
    """A build function: no arguments."""


def needs(model: str) -> None:
    """Not a build function: Modal would call it with no arguments."""
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'imgs'\n")
    package = tmp_path / "imgjobs"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tasks.py").write_text(HANDLERS)
    (tmp_path / "assets" / "prompts").mkdir(parents=True)
    (tmp_path / "assets" / "config.json").write_text('{"a": 1}\n')
    (tmp_path / "assets" / "prompts" / "system.txt").write_text("terse\n")
    (tmp_path / "assets" / "prompts" / "draft.tmp").write_text("scratch\n")
    return tmp_path
