"""Whatever the bytes, the loader answers with data or a located ManifestError, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.manifest.errors import ManifestError
from engine.manifest.interpolate import interpolate_layer
from engine.manifest.overlay import merge_layers
from engine.manifest.toml_reader import parse_toml
from engine.manifest.yaml_reader import parse_yaml

WEIRD_YAML = [
    "",
    "---\n...\n",
    "~\n",
    "[" * 100_000,
    "{" * 100_000,
    "a: " + "{a: " * 5000,
    "- " * 5000 + "x\n",
    "a: &a\n  b: *a\n",
    "a: *undefined\n",
    "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
    "%YAML 1.1\n---\na: yes\n",
    "a: !!binary aGk=\n",
    "a: !!timestamp 2001-12-14\n",
    "a: !!set {x}\n",
    "a: b: c\n",
    '"unterminated: x\n',
    "a: 'x\n",
    "a:\r\n  b: 1\r\n",
    "a: \ud7ff\n",
    "a: \x85\n",
    "? |\n  block key\n: v\n",
    "a: |\n\tx\n",
    "&a a: 1\nb: *a\n",
    "a: [*a]\n",
    "a: " + "x" * 500_000 + "\n",
    "\n" * 10_000 + "a: !!python/name:os.system\n",
]

WEIRD_TOML = [
    "",
    "a = " + "[" * 100_000,
    "a = " + "{b = " * 100_000,
    "[" + "a." * 20_000 + "a]\n",
    "a.b.c.d = 1\na.b = 2\n",
    "[[a]]\n[a]\n",
    'a = "\\uD800"\n',
    "a = 1\x00\n",
    "a = '''\nx''''\n",
    'a = """x""""\n',
    '"" = 1\n',
    "a = inf\nb = nan\n",
    "a = 0x_1\n",
    "a = [1, 'x', {b = 1979-05-27}]\n",
    "[tbl]\n[tbl.sub]\n[[tbl.arr]]\n[[tbl.arr]]\nx.y = 1\n",
]


def _loads_or_located_error(parse, text: str) -> None:
    try:
        layer = parse(text, "weird")
    except ManifestError as exc:
        assert all(p.location is not None and p.location.line >= 1 and p.location.col >= 1 for p in exc.problems)
        return
    try:
        interpolated = interpolate_layer(layer, {})
    except ManifestError:
        return
    merge_layers([interpolated, interpolated])


@pytest.mark.parametrize("text", WEIRD_YAML, ids=range(len(WEIRD_YAML)))
def test_weird_yaml_never_crashes(text):
    _loads_or_located_error(parse_yaml, text)


@pytest.mark.parametrize("text", WEIRD_TOML, ids=range(len(WEIRD_TOML)))
def test_weird_toml_never_crashes(text):
    _loads_or_located_error(parse_toml, text)


_TOKENS = list("[]{}:,-?&*!|>'\"#%@\t\n =.$\\ab1") + ["${", "<<", "!!str", "---", "\n  ", "a = ", "[[x]]\n"]
_YAMLISH = st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_YAMLISH)
def test_random_yaml_text_never_crashes(text):
    _loads_or_located_error(parse_yaml, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_YAMLISH)
def test_random_toml_text_never_crashes(text):
    _loads_or_located_error(parse_toml, text)
