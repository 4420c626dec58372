"""The `slow` table in tests/conftest.py names tests that exist: a renamed file or test would
otherwise drop out of `-m slow` (and into the quick loop) without a word."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import SLOW

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("entry", SLOW)
def test_each_slow_entry_names_a_test_file_or_a_test_in_it(entry):
    path, _, test = entry.partition("::")
    file = REPO / path
    assert file.is_file(), f"{path} is not a file"
    if test:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        names = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        assert test in names, f"{path} has no test {test}"
