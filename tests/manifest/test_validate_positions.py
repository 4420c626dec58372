"""Where each problem points, through a hand-made merged manifest (spans as the loader makes them):
an unknown key at the key, a bad value at the value, a missing key at its parent's key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from engine.manifest.errors import Location, ManifestError
from engine.manifest.overlay import Merged
from engine.manifest.validate import validate_merged

REV = "0e9e39f249a16976918f6564b8830bc894c89659"


@dataclass(frozen=True)
class Span:
    key: Location | None
    value: Location


def _span(key_line: int, key_col: int, value_col: int) -> Span:
    return Span(Location("m.yaml", key_line, key_col), Location("m.yaml", key_line, value_col))


def merged(service: dict, spans: dict, plain: dict | None = None) -> Merged:
    """A manifest with one service `chat`; `spans` are for paths below services.chat."""
    data = {"version": 1, "app": "demo", "services": {"chat": service}}
    all_spans = {
        (): Span(None, Location("m.yaml", 1, 1)),
        ("version",): _span(1, 1, 10),
        ("app",): _span(2, 1, 6),
        ("services",): Span(Location("m.yaml", 3, 1), Location("m.yaml", 4, 3)),
        ("services", "chat"): Span(Location("m.yaml", 4, 3), Location("m.yaml", 5, 5)),
    }
    all_spans.update({("services", "chat", *path): span for path, span in spans.items()})
    return Merged(data, all_spans, files=("m.yaml",), plain_scalars=plain or {})


def llm(**extra) -> dict:
    return {"kind": "llm", "engine": "vllm", "model": {"id": "a/b", "revision": REV}, "gpu": "H100", **extra}


def only(m: Merged):
    with pytest.raises(ManifestError) as info:
        validate_merged(m)
    assert len(info.value.problems) == 1, info.value.format()
    return info.value.problems[0]


def test_unknown_key_points_at_the_key():
    problem = only(merged(llm(keep_warm=1), {("keep_warm",): _span(9, 5, 16)}))
    assert problem.location == Location("m.yaml", 9, 5)


def test_bad_value_points_at_the_value():
    problem = only(merged(llm(port="x"), {("port",): _span(9, 5, 11)}))
    assert problem.location == Location("m.yaml", 9, 11)


def test_missing_key_points_at_the_parent_key():
    service = llm()
    del service["gpu"]
    problem = only(merged(service, {}))
    assert (problem.location, problem.key) == (Location("m.yaml", 4, 3), "services.chat.gpu")


def test_value_without_own_span_points_at_nearest_parent():
    problem = only(merged(llm(scaling={"min_containers": 2, "max_containers": 1}), {("scaling",): _span(9, 5, 7)}))
    assert problem.location == Location("m.yaml", 9, 5)


def test_plain_scalar_hint_shows_what_was_written():
    data = {"version": 1, "app": "demo", "images": {"base": {"python": 3.1}}}
    spans = {("images", "base", "python"): _span(5, 5, 13)}
    problem = only(Merged(data, spans, files=("m.yaml",), plain_scalars={("images", "base", "python"): "3.10"}))
    assert problem.hint == 'quote it: "3.10"'
    assert "YAML reads 3.10 as a number" in problem.message
    assert problem.location == Location("m.yaml", 5, 13)


def test_secret_values_are_located_and_never_echoed():
    token = "hf_" + "aBcD1234" * 5
    problem = only(merged(llm(env={"HF_TOKEN": token}), {("env", "HF_TOKEN"): _span(9, 7, 17)}))
    assert problem.location == Location("m.yaml", 9, 17)
    assert token not in problem.format() and "Modal secret" in problem.message


def test_secret_value_in_a_type_error_is_not_echoed():
    token = "sk-" + "Zx9" * 10
    problem = [p for p in _problems(merged(llm(port=token), {})) if p.key == "services.chat.port"][0]
    assert token not in problem.format()


def test_random_string_in_env_is_a_secret_but_a_commit_is_not():
    randomish = "q8Zr2LmX7vN4pT1kW9sB6yH3dF5gJ0aE"
    problems = _problems(merged(llm(env={"KEY": randomish, "REV": REV}), {}))
    assert [p.key for p in problems] == ["services.chat.env.KEY"]


def _problems(m: Merged):
    with pytest.raises(ManifestError) as info:
        validate_merged(m)
    return info.value.problems
