"""YAML reading: every rejected input is a ManifestError at the exact line and column."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.yaml_reader import parse_yaml, resolve_plain_scalar


def problem_of(text: str):
    with pytest.raises(ManifestError) as caught:
        parse_yaml(text, "m.yaml")
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


def at(problem) -> tuple[int, int]:
    return problem.location.line, problem.location.col


def test_data_is_plain_python_types():
    layer = parse_yaml("a: {b: [1, 2.5, true, null, x]}\nc: |\n  text\n", "m.yaml")
    assert layer.data == {"a": {"b": [1, 2.5, True, None, "x"]}, "c": "text\n"}
    assert type(layer.data) is dict and type(layer.data["a"]["b"]) is list
    assert type(layer.data["c"]) is str


def test_spans_locate_keys_and_values():
    layer = parse_yaml("app: x\nservices:\n  chat:\n    gpu: H100\n    pip: [a, b]\n", "m.yaml")
    gpu = layer.spans[("services", "chat", "gpu")]
    assert (gpu.key.line, gpu.key.col, gpu.value.line, gpu.value.col) == (4, 5, 4, 10)
    item = layer.spans[("services", "chat", "pip", 1)]
    assert item.key is None and (item.value.line, item.value.col) == (5, 14)
    assert layer.spans[()].value.line == 1


def test_yaml_12_keeps_norway_and_sexagesimal_as_strings():
    layer = parse_yaml("a: NO\nb: 22:22\nc: yes\nd: 0777\ne: 2024-01-01\n", "m.yaml")
    assert layer.data == {"a": "NO", "b": "22:22", "c": "yes", "d": 777, "e": "2024-01-01"}


def test_plain_scalars_are_recorded_with_their_text_quoted_ones_are_not():
    layer = parse_yaml("a: NO\nb: 'NO'\nc: \"x\"\nd: [p, 'q']\ne: |\n  x\nf: 3.10\n", "m.yaml")
    assert layer.plain_scalars == {("a",): "NO", ("d", 0): "p", ("f",): "3.10"}


def test_core_schema_resolution():
    assert resolve_plain_scalar("0x1F") == 31
    assert resolve_plain_scalar("0o17") == 15
    assert resolve_plain_scalar("1e3") == 1000.0
    assert resolve_plain_scalar("-.inf") == float("-inf")
    assert resolve_plain_scalar("~") is None
    assert resolve_plain_scalar("") is None
    assert resolve_plain_scalar("TRUE") is True
    assert resolve_plain_scalar("1_000") == "1_000"
    assert resolve_plain_scalar("on") == "on"


def test_duplicate_key_is_located_error():
    problem = problem_of("app: x\nservices:\n  chat: {}\n  chat: {}\n")
    assert at(problem) == (4, 3)
    assert "duplicate key 'chat'" in problem.message and "line 3" in problem.hint


def test_alias_bomb_rejected():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        prev = f"*a{n - 1}"
        lines.append(f"a{n}: &a{n} [{', '.join([prev] * 10)}]")
    problem = problem_of("\n".join(lines) + "\n")
    assert "alias" in problem.message
    # the 21st alias use is the first on line 4 ("a3: &a3 [*a2, ...")
    assert at(problem) == (4, 10)


def test_a_few_aliases_are_allowed_and_copied():
    layer = parse_yaml("base: &b {cpu: 2}\none: *b\ntwo: *b\n", "m.yaml")
    assert layer.data["one"] == {"cpu": 2} and layer.data["one"] is not layer.data["two"]
    assert layer.spans[("two",)].value.line == 3
    assert layer.spans[("two", "cpu")].value.line == 1


def test_alias_to_itself_rejected():
    assert at(problem_of("a: &a [1, *a]\n")) == (1, 11)


def test_tab_indentation_rejected():
    problem = problem_of("services:\n\tchat: {}\n")
    assert at(problem) == (2, 1) and "tab" in problem.message


def test_tab_after_spaces_in_indentation_rejected():
    assert at(problem_of("a:\n  b: 1\n  \tc: 2\n")) == (3, 3)


def test_tab_inside_block_scalar_is_content():
    assert parse_yaml("run: |\n  a\n  \tb\n", "m.yaml").data == {"run": "a\n\tb\n"}


def test_python_tag_rejected():
    problem = problem_of("app: x\nhandler: !!python/object/apply:os.system [ls]\n")
    assert at(problem) == (2, 10)
    assert "!!python/object/apply:os.system" in problem.message


def test_local_tag_rejected():
    assert at(problem_of("a: !secret x\n")) == (1, 4)


def test_core_tags_allowed():
    layer = parse_yaml("a: !!str 3\nb: !!int '4'\nc: !!float 1\nd: !!map {x: 1}\n", "m.yaml")
    assert layer.data == {"a": "3", "b": 4, "c": 1.0, "d": {"x": 1}}


def test_core_tag_with_wrong_text_rejected():
    assert at(problem_of("a: 1\nb: !!int ten\n")) == (2, 4)


def test_nesting_deeper_than_64_rejected():
    problem = problem_of("a: " + "[" * 64 + "]" * 64 + "\n")
    assert at(problem) == (1, 3 + 64) and "64" in problem.message


def test_nesting_of_64_levels_accepted():
    layer = parse_yaml("a: " + "[" * 63 + "]" * 63 + "\n", "m.yaml")
    assert "a" in layer.data


def test_huge_flow_nesting_fails_fast_without_recursion_error():
    problem = problem_of("a: " + "[" * 200_000 + "\n")
    assert at(problem) == (1, 67)


def test_deep_block_nesting_rejected():
    text = "".join(" " * (2 * n) + f"k{n}:\n" for n in range(70)) + " " * 140 + "v: 1\n"
    assert at(problem_of(text)) == (65, 129)


def test_multiple_documents_rejected():
    problem = problem_of("app: x\n---\napp: y\n")
    assert at(problem) == (2, 1) and "more than one" in problem.message


def test_list_root_rejected():
    problem = problem_of("\n- a\n")
    assert at(problem) == (2, 1) and "mapping" in problem.message


def test_scalar_root_rejected():
    assert "mapping" in problem_of("just text\n").message


def test_empty_file_rejected():
    assert "empty" in problem_of("# only a comment\n").message


def test_integer_key_rejected_with_hint_to_quote():
    problem = problem_of("env:\n  1: x\n")
    assert at(problem) == (2, 3) and problem.hint == 'quote it: "1"'


def test_null_key_rejected():
    assert at(problem_of("env:\n  null: x\n")) == (2, 3)


def test_boolean_key_rejected():
    assert at(problem_of("env:\n  true: x\n")) == (2, 3)


def test_complex_key_rejected():
    assert at(problem_of("? [a, b]\n: 1\n")) == (1, 3)


def test_merge_key_rejected():
    problem = problem_of("base: &b {cpu: 1}\nf:\n  <<: *b\n")
    assert at(problem) == (3, 3) and "merge" in problem.message


def test_quoted_keys_that_look_like_numbers_are_fine():
    assert parse_yaml("env:\n  '1': x\n  \"null\": y\n", "m.yaml").data == {"env": {"1": "x", "null": "y"}}


def test_syntax_error_is_located():
    problem = problem_of("a: [1, 2\nb: 3\n")
    assert problem.location.line == 2 and "invalid YAML" in problem.message


def test_control_character_rejected():
    assert at(problem_of("a: 1\nb: x\x01y\n")) == (2, 5)
