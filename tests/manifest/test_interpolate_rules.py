"""Interpolation of `${VAR}`, `${VAR:-default}` and `$$` in string values."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.interpolate import interpolate_layer
from engine.manifest.toml_reader import parse_toml
from engine.manifest.yaml_reader import parse_yaml


def yaml_data(text: str, environ: dict[str, str]) -> dict:
    return interpolate_layer(parse_yaml(text, "m.yaml"), environ).data


def yaml_problems(text: str, environ: dict[str, str]):
    with pytest.raises(ManifestError) as caught:
        interpolate_layer(parse_yaml(text, "m.yaml"), environ)
    return caught.value.problems


def test_interpolation_variable():
    assert yaml_data("app: chat-${STAGE}\n", {"STAGE": "prod"}) == {"app": "chat-prod"}


def test_interpolation_default():
    assert yaml_data("gpu: ${GPU:-A100}\n", {}) == {"gpu": "A100"}


def test_interpolation_default_used_for_empty_variable():
    assert yaml_data("gpu: ${GPU:-A100}\n", {"GPU": ""}) == {"gpu": "A100"}


def test_interpolation_set_variable_wins_over_default():
    assert yaml_data("gpu: ${GPU:-A100}\n", {"GPU": "H100"}) == {"gpu": "H100"}


def test_interpolation_escape():
    assert yaml_data("run: echo $${HOME} $$x\n", {"HOME": "/root"}) == {"run": "echo ${HOME} $x"}


def test_dollar_without_brace_is_literal():
    assert yaml_data("run: echo $HOME costs 5$\n", {"HOME": "/root"}) == {"run": "echo $HOME costs 5$"}


def test_interpolation_no_recursion():
    environ = {"A": "${B}", "B": "no"}
    assert yaml_data("x: ${A}\ny: ${C:-${B}\n", environ) == {"x": "${B}", "y": "${B"}


def test_keys_are_never_interpolated():
    assert yaml_data("env:\n  ${K}: v\n", {"K": "x"}) == {"env": {"${K}": "v"}}


def test_unset_variable_is_located_error_naming_it():
    (problem,) = yaml_problems("app: x\nservices:\n  a: {port: \"${PORT}\"}\n", {})
    assert (problem.location.line, problem.location.col) == (3, 13)
    assert problem.key == "services.a.port" and "PORT" in problem.message


def test_all_unset_variables_reported_at_once():
    problems = yaml_problems("a: ${X}\nb: ${Y}\n", {})
    assert [p.location.line for p in problems] == [1, 2]


@pytest.mark.parametrize("text", ["${", "${}", "${1X}", "${A B}", "${A-b}", "x ${A"])
def test_malformed_reference_is_located_error(text):
    (problem,) = yaml_problems(f"a: 1\nb: '{text}'\n", {"A": "1"})
    assert (problem.location.line, problem.location.col) == (2, 4) and "malformed" in problem.message


def test_interpolated_value_never_echoed_in_errors():
    secret = "sk-very-secret-value"
    problems = yaml_problems("a: ${TOKEN}\nb: ${MISSING}\n", {"TOKEN": secret})
    assert all(secret not in p.format() for p in problems)


def test_interpolated_paths_are_recorded():
    layer = interpolate_layer(parse_yaml("a: ${T}\nb: plain\nc: $$x\n", "m.yaml"), {"T": "v"})
    assert layer.interpolated == {("a",)}


def test_plain_scalar_retyped_after_interpolation():
    data = yaml_data("port: ${PORT}\nfast: ${FAST}\nratio: ${R}\nregion: ${REG:-}\n",
                     {"PORT": "8000", "FAST": "true", "R": "0.9"})
    assert data == {"port": 8000, "fast": True, "ratio": 0.9, "region": None}


def test_plain_scalar_retyped_by_yaml_12_rules_only():
    assert yaml_data("a: ${V}\n", {"V": "yes"}) == {"a": "yes"}


def test_quoted_scalar_stays_string():
    assert yaml_data("port: \"${PORT}\"\nother: '${PORT}'\n", {"PORT": "8000"}) == {"port": "8000", "other": "8000"}


def test_plain_scalar_with_text_around_reference_is_retyped_as_a_whole():
    assert yaml_data("a: 80${X}\nb: v${X}\n", {"X": "80"}) == {"a": 8080, "b": "v80"}


def test_toml_string_that_is_one_reference_is_retyped():
    layer = interpolate_layer(parse_toml('port = "${PORT}"\nname = "app-${PORT}"\n', "m.toml"), {"PORT": "8000"})
    assert layer.data == {"port": 8000, "name": "app-8000"}


def test_toml_default_only_reference_is_retyped():
    layer = interpolate_layer(parse_toml('workers = "${W:-4}"\n', "m.toml"), {})
    assert layer.data == {"workers": 4}


def test_values_in_lists_are_interpolated():
    assert yaml_data("pip: [\"a==${V}\", b]\n", {"V": "1.0"}) == {"pip": ["a==1.0", "b"]}


def test_interpolation_does_not_change_the_input_layer():
    layer = parse_yaml("a: ${X}\n", "m.yaml")
    interpolate_layer(layer, {"X": "1"})
    assert layer.data == {"a": "${X}"}
