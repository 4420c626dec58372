"""The libyaml fast path (engine/manifest/yaml_events.py) builds exactly what the pure parser builds."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest

from engine.manifest.yaml_events import _libyaml_events, yaml_events

_spec = importlib.util.spec_from_file_location("mdeploy_fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)

YAML_SEEDS = [p for p in fuzzing.shipped_manifests() if p.suffix == ".yaml"]


def test_plain_manifests_take_the_libyaml_path():
    for path in YAML_SEEDS:
        assert isinstance(yaml_events(path.read_text()), list), path


@pytest.mark.parametrize("path", YAML_SEEDS, ids=lambda p: p.name)
def test_shipped_manifest_builds_the_same_layer_on_both_paths(path):
    assert fuzzing.yaml_paths_disagree(path.read_text()) is None


def test_mutated_manifests_build_the_same_layer_or_error_on_both_paths():
    rng = random.Random(20240601)
    texts = [p.read_text() for p in YAML_SEEDS]
    for _ in range(1500):
        text = fuzzing.mutate(rng.choice(texts), rng)
        assert fuzzing.yaml_paths_disagree(text) is None, repr(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\x85b: 2\n",  # NEL: a line break in YAML 1.1 only
        "a: x\u2028y\n",  # LS, likewise
        "a: some\ttext\n",  # libyaml takes tabs the pure parser rejects
        "a: x\ufeffy\n",  # a BOM inside the text is counted differently
        "a: &x 1\nb: *x\n",  # anchor names end differently in YAML 1.1 and 1.2
        "a: {b: , c: 1}\n",  # an empty value inside brackets
        "a: 1\nb:",  # an empty value at the very end
        "a: 1\n: 2\n",  # an empty key
        "a: |\n  x\n",  # a block scalar (libyaml reads `|#` headers differently)
        "a: [" * 3 + "\n",  # a libyaml error
    ],
)
def test_text_libyaml_reads_differently_goes_to_the_pure_parser(text):
    assert _libyaml_events(text) is None or any(c in text for c in "\x85\u2028\t\ufeff")
    assert not isinstance(yaml_events(text), list)
    assert fuzzing.yaml_paths_disagree(text) is None


def test_very_long_event_streams_go_to_the_pure_parser():
    text = "a: [" + ", ".join("x" for _ in range(25_000)) + "]\n"
    assert _libyaml_events(text) is None
