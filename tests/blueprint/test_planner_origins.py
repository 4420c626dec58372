"""The planner's origin record covers the Blueprint: every value of every planned manifest has an
origin, recorded where the planner decided it, that points at what really set it. (Planned
without the project checks: some fixtures name handler modules that are not files here.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.blueprint.codec import to_json
from engine.blueprint.origins import DEFAULTS, ENGINE, MANIFEST, PLANNER
from engine.manifest.load import discover_manifests, environments_of
from engine.manifest.validate import load_manifest
from engine.plan.explain import blueprint_view
from engine.planner.plan import plan_file_with_origins

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = discover_manifests(
    [REPO / "manifests", REPO / "tests" / "blueprint" / "data", REPO / "tests" / "manifest" / "data" / "valid"]
)
CASES = [(m, env) for m in MANIFESTS for env in [None, *environments_of(m)]]


def _leaves(data, path=()):
    if isinstance(data, dict) and data:
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list) and data:
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    else:
        yield path


@pytest.mark.parametrize(("manifest", "env"), CASES, ids=[f"{m.name}:{e or 'base'}" for m, e in CASES])
def test_every_blueprint_value_has_a_recorded_origin(manifest, env):
    planned = plan_file_with_origins(manifest, env, {}, check_project=False)
    missing = [path for path in _leaves(blueprint_view(planned.blueprint)) if planned.origins.find(path) is None]
    assert missing == []


@pytest.mark.parametrize(("manifest", "env"), CASES, ids=[f"{m.name}:{e or 'base'}" for m, e in CASES])
def test_every_manifest_origin_points_at_a_key_a_file_sets(manifest, env):
    loaded = load_manifest(manifest, env, {})
    planned = plan_file_with_origins(manifest, env, {}, check_project=False)
    for path, origin in planned.origins.items():
        if origin.kind in (MANIFEST, DEFAULTS, ENGINE, PLANNER):
            for source in origin.sources:
                assert source.key in loaded.merged.spans, (path, source.key)
                assert source.location == str(loaded.merged.spans[source.key].value), (path, source.key)


def test_a_planner_default_names_a_constant_that_exists():
    from engine.planner import defaults as planner_defaults

    planned = plan_file_with_origins(REPO / "manifests" / "chat.yaml", "prod", {})
    constants = {origin.constant for _, origin in planned.origins.items() if origin.constant}
    assert constants and all(hasattr(planner_defaults, name) for name in constants)


def test_the_record_is_not_in_the_blueprint(tmp_path):
    (tmp_path / "m.yaml").write_text(
        "version: 1\napp: x\nfunctions:\n  f: {handler: 'pkg.mod:run', gpu: '${GPU}', env: {STAGE: '${STAGE}'}}\n"
    )
    planned = plan_file_with_origins(tmp_path / "m.yaml", None, {"GPU": "T4", "STAGE": "stagezq"}, check_project=False)
    text = to_json(planned.blueprint)
    assert "stagezq" not in text and '"STAGE": "${STAGE}"' in text
    assert '"T4"' in text  # any other value stays in the Blueprint: the container rebuilds it
    assert planned.env_values == {("functions", "f"): {"STAGE": "stagezq"}}
    assert planned.origins.reference(("functions", "f", "container", "gpu", 0)) == "${GPU}"
