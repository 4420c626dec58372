"""Same input, same bytes: across runs, processes and hash seeds, and through JSON."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.blueprint.codec import from_json, to_json

REPO = Path(__file__).resolve().parents[2]
KITCHEN = REPO / "tests" / "blueprint" / "data" / "kitchen-sink.yaml"

# Plans the fixture from plain data (parsed here, not by the loader) and prints the JSON.
_SCRIPT = """
import sys
from engine.manifest.overlay import Merged
from ruamel.yaml import YAML
from engine.blueprint.codec import to_json
from engine.planner.plan import plan_app
from engine.manifest.validate import LoadedManifest, validate_data
data = YAML(typ="safe").load(open(sys.argv[1]))
loaded = LoadedManifest(validate_data(data), Merged(data=data, spans={}, files=()), "prod", "kitchen.yaml")
sys.stdout.write(to_json(plan_app(loaded)))
"""


def _plan_in_fresh_process(seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(KITCHEN)], env=env, capture_output=True, text=True, check=True, cwd=REPO
    )
    return result.stdout


def test_blueprint_is_byte_identical_across_runs_and_hash_seeds():
    first = _plan_in_fresh_process("1")
    assert first and first == _plan_in_fresh_process("2")


def test_blueprint_is_byte_identical_within_a_process(plan):
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(KITCHEN.read_text())
    assert to_json(plan(data)) == to_json(plan(data))


def test_blueprint_round_trips_through_json(plan):
    from ruamel.yaml import YAML

    blueprint = plan(YAML(typ="safe").load(KITCHEN.read_text()))
    assert from_json(to_json(blueprint)) == blueprint


def test_planning_does_not_mutate_the_manifest(plan, llm_manifest):
    data = llm_manifest()
    before = repr(data)
    plan(data)
    assert repr(data) == before
