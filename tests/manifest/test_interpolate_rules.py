"""Interpolation of `${VAR}`, `${VAR:-default}` and `$$` in string values."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.interpolate import hide_variable_values, interpolate_layer
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
    (problem,) = yaml_problems('app: x\nservices:\n  a: {port: "${PORT}"}\n', {})
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
    assert layer.interpolated == {("a",): "${T}"}


def test_plain_scalar_retyped_after_interpolation():
    data = yaml_data(
        "port: ${PORT}\nfast: ${FAST}\nratio: ${R}\nregion: ${REG:-}\n", {"PORT": "8000", "FAST": "true", "R": "0.9"}
    )
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
    assert yaml_data('pip: ["a==${V}", b]\n', {"V": "1.0"}) == {"pip": ["a==1.0", "b"]}


def test_interpolation_does_not_change_the_input_layer():
    layer = parse_yaml("a: ${X}\n", "m.yaml")
    interpolate_layer(layer, {"X": "1"})
    assert layer.data == {"a": "${X}"}


# --- credentials never come in through a variable --------------------------------------------

FAKE_MODAL_SECRET = "as-" + "0123456789abcdefghijkl"


@pytest.mark.parametrize(
    "environ",
    [{"HF_TOKEN": "hf_" + "A" * 34}, {"HF_TOKEN": "ordinary"}, {}],
    ids=["set-to-a-token", "set-to-anything", "unset"],
)
def test_a_credential_named_variable_is_refused_set_or_not(environ):
    (problem,) = yaml_problems("app: x\nenv:\n  T: ${HF_TOKEN}\n", environ)
    assert (problem.location.line, problem.location.col, problem.key) == (3, 6, "env.T")
    assert "${HF_TOKEN} names a token" in problem.message
    assert "modal secret create NAME HF_TOKEN=..." in problem.hint and "`secrets`" in problem.hint
    assert all(value not in problem.format() for value in environ.values())


def test_a_credential_named_variable_with_a_default_is_refused_too():
    (problem,) = yaml_problems("served: ${MODAL_TOKEN_SECRET:-llm}\n", {})
    assert "${MODAL_TOKEN_SECRET} names a Modal token" in problem.message


def test_an_ordinary_variable_holding_a_credential_is_refused_without_its_value():
    (problem,) = yaml_problems("gpu: ${GPU}\n", {"GPU": FAKE_MODAL_SECRET})
    assert "the value of ${GPU} looks like a credential (a Modal token)" in problem.message
    assert FAKE_MODAL_SECRET not in problem.format()


def test_a_credential_default_is_refused_like_a_value():
    (problem,) = yaml_problems(f"gpu: ${{GPU:-{FAKE_MODAL_SECRET}}}\n", {})
    assert "the value of ${GPU} looks like a credential" in problem.message


def test_an_ordinary_variable_records_the_text_the_file_wrote():
    layer = interpolate_layer(parse_yaml("model: org/${NAME:-tiny}\n", "m.yaml"), {"NAME": "chat"})
    assert layer.data == {"model": "org/chat"} and layer.interpolated == {("model",): "org/${NAME:-tiny}"}


def test_a_message_quoting_a_value_from_a_variable_shows_the_reference():
    data, interpolated = {"gpu": "H1000", "port": 8001}, {("gpu",): "${GPU}", ("port",): "${PORT}"}
    assert hide_variable_values("unknown GPU type 'H1000'", data, interpolated) == "unknown GPU type ${GPU}"
    assert (
        hide_variable_values("port 8001 is taken; 80011 is not", data, interpolated)
        == "port ${PORT} is taken; 80011 is not"
    )
    assert hide_variable_values("H1000x and xH1000", data, interpolated) == "H1000x and xH1000"


def test_validation_problems_show_references_not_values(tmp_path):
    from engine.manifest.validate import load_manifest

    (tmp_path / "m.yaml").write_text(
        "version: 1\napp: x\nfunctions:\n  f: {handler: 'pkg.mod:run', gpu: '${GPU}', volumes: {/d: '${VOL}'}}\n"
    )
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "m.yaml", None, {"GPU": "H1000", "VOL": "scratchvolume"})
    text = caught.value.format()
    assert "${GPU}" in text and "${VOL}" in text
    assert "H1000" not in text and "scratchvolume" not in text
