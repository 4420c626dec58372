"""TOML reading: data from tomllib, positions from our scanner, located errors."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.toml_reader import parse_toml

MANIFEST = """version = 1
app = "chat"
defaults.timeout = "10m"

[images.base]
pip = [
  "a",
  "b",
]
env = { A = "1", B = { C = 2 } }

[[functions.f.retries]]
count = 1
[[functions.f.retries]]
count = 2
"""


def problem_of(text: str):
    with pytest.raises(ManifestError) as caught:
        parse_toml(text, "m.toml")
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


def at(problem) -> tuple[int, int]:
    return problem.location.line, problem.location.col


def value_at(layer, path) -> tuple[int, int]:
    return layer.spans[path].value.line, layer.spans[path].value.col


def test_toml_data_is_plain_python():
    layer = parse_toml(MANIFEST, "m.toml")
    assert layer.data["images"]["base"]["env"] == {"A": "1", "B": {"C": 2}}
    assert layer.format == "toml" and layer.plain_scalars == {}


def test_toml_top_level_key_position():
    layer = parse_toml(MANIFEST, "m.toml")
    assert value_at(layer, ("app",)) == (2, 7)
    assert (layer.spans[("app",)].key.line, layer.spans[("app",)].key.col) == (2, 1)


def test_toml_dotted_key_position():
    assert value_at(parse_toml(MANIFEST, "m.toml"), ("defaults", "timeout")) == (3, 20)


def test_toml_key_under_table_header_position():
    layer = parse_toml(MANIFEST, "m.toml")
    assert value_at(layer, ("images", "base", "pip")) == (6, 7)
    assert value_at(layer, ("images", "base", "pip", 1)) == (8, 3)


def test_toml_inline_table_key_positions():
    layer = parse_toml(MANIFEST, "m.toml")
    assert value_at(layer, ("images", "base", "env", "B", "C")) == (10, 28)


def test_toml_array_of_tables_counts_entries():
    layer = parse_toml(MANIFEST, "m.toml")
    assert value_at(layer, ("functions", "f", "retries", 1, "count")) == (15, 9)
    assert value_at(layer, ("functions", "f", "retries", 0)) == (12, 1)


def test_toml_every_path_has_a_span():
    layer = parse_toml('a = """x\ny"""\nb = [{c = 1}, {d = [1, 2]}]\n', "m.toml")
    paths = {("a",), ("b",), ("b", 0), ("b", 0, "c"), ("b", 1), ("b", 1, "d"), ("b", 1, "d", 0), ("b", 1, "d", 1)}
    assert paths <= set(layer.spans)
    assert value_at(layer, ("b", 1, "d", 1)) == (3, 24)


def test_toml_naive_datetime_rejected():
    problem = problem_of('app = "x"\n[schedule]\nat = 1979-05-27T07:32:00\n')
    assert at(problem) == (3, 6) and problem.key == "schedule.at"


def test_toml_date_and_time_rejected_together():
    with pytest.raises(ManifestError) as caught:
        parse_toml("a = 1979-05-27\nb = 07:32:00\nc = 1979-05-27T07:32:00Z\n", "m.toml")
    assert [(p.location.line, p.location.col) for p in caught.value.problems] == [(1, 5), (2, 5), (3, 5)]


def test_toml_syntax_error_line_and_column_mapped():
    problem = problem_of('app = "x"\nport = 80 80\n')
    assert at(problem) == (2, 11) and problem.message.startswith("invalid TOML")


def test_toml_duplicate_key_rejected():
    problem = problem_of("a = 1\nb = 2\na = 3\n")
    assert at(problem) == (3, 6) and "twice" in problem.hint


def test_toml_error_at_end_of_document_points_at_last_line():
    assert at(problem_of('a = 1\nb = "x')) == (2, 7)


def test_toml_nesting_deeper_than_64_rejected():
    problem = problem_of("a = " + "[" * 64 + "]" * 64 + "\n")
    assert at(problem) == (1, 4 + 64)


def test_toml_deep_dotted_table_header_rejected():
    problem = problem_of("[" + ".".join(["k"] * 64) + "]\n")
    assert at(problem) == (1, 128)


def test_toml_nesting_that_overflows_the_parser_is_a_located_error():
    problem = problem_of("a = " + "[" * 5000 + "]" * 5000 + "\n")
    assert at(problem) == (1, 68)
