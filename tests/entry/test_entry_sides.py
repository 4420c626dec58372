"""The two halves of engine/entry.py: the deploying side (manifest -> Blueprint, one clear error)
and the container side (MDEPLOY_BLUEPRINT -> Blueprint)."""

from __future__ import annotations

import sys
import types

import pytest

from engine.blueprint.codec import COMPRESSED_PREFIX, ENV_VAR, encode_for_env, to_json
from engine.errors import UserError
from engine.manifest.errors import Location, ManifestError, Problem
from engine.modal_backend.container_side import ContainerBlueprintError, blueprint_in_container
from engine.modal_backend.deploy_side import blueprint_for_deploy, plan_for_deploy
from tests.modal_backend.blueprints import pipeline, vllm_server


@pytest.fixture
def fake_planner(monkeypatch):
    """Stands in for engine.planner.plan so these rules do not depend on any manifest."""
    calls = []
    module = types.ModuleType("engine.planner.plan")

    def load_and_plan(path, env, environ=None):
        calls.append((path, env))
        if module.error is not None:
            raise module.error
        # A Blueprint Modal's client accepts: the deploy side builds it offline before handing it on.
        planned = types.SimpleNamespace(
            blueprint=pipeline(), origins=None, env_values={("functions", "discover"): {"A": "1"}}
        )
        return types.SimpleNamespace(merged=None), planned

    module.load_and_plan = load_and_plan
    module.error = None
    module.calls = calls
    monkeypatch.setitem(sys.modules, "engine.planner.plan", module)
    return module


def test_deploy_plans_the_manifest_for_modal_environment(fake_planner):
    blueprint = blueprint_for_deploy({"MDEPLOY_MANIFEST": "manifests/pipeline.yaml", "MODAL_ENVIRONMENT": "prod"})
    assert blueprint == pipeline()
    assert fake_planner.calls == [("manifests/pipeline.yaml", "prod")]


def test_deploy_hands_on_the_values_of_env_entries_from_variables(fake_planner):
    blueprint, env_values = plan_for_deploy({"MDEPLOY_MANIFEST": "manifests/pipeline.yaml"})
    assert blueprint == pipeline() and env_values == {("functions", "discover"): {"A": "1"}}


def test_deploy_without_modal_environment_lets_the_planner_choose(fake_planner):
    blueprint_for_deploy({"MDEPLOY_MANIFEST": "manifests/pipeline.yaml"})
    assert fake_planner.calls == [("manifests/pipeline.yaml", None)]


def test_deploy_without_manifest_variable_is_one_user_error(fake_planner):
    with pytest.raises(UserError, match="MDEPLOY_MANIFEST is not set"):
        blueprint_for_deploy({})
    assert fake_planner.calls == []


def test_deploy_manifest_error_becomes_problem_text_without_chain(fake_planner):
    problems = [
        Problem(Location("m.yaml", 3, 1), "servise", "unknown key", "did you mean 'services'?"),
        Problem(Location("m.yaml", 7, 5), "functions.x.gpu", "unknown GPU 'H1000'"),
    ]
    fake_planner.error = ManifestError(problems)
    with pytest.raises(UserError) as caught:
        blueprint_for_deploy({"MDEPLOY_MANIFEST": "m.yaml"})
    assert str(caught.value) == fake_planner.error.format()
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_container_builds_from_plain_json():
    blueprint = vllm_server()
    assert blueprint_in_container({ENV_VAR: to_json(blueprint)}) == blueprint


def test_container_builds_from_compressed_value():
    blueprint = vllm_server()
    big = blueprint.__class__(**{**blueprint.__dict__, "source": "x" * 20_000})
    value = encode_for_env(big)
    assert value.startswith(COMPRESSED_PREFIX)
    assert blueprint_in_container({ENV_VAR: value}) == big


def test_container_without_blueprint_variable_says_so():
    with pytest.raises(ContainerBlueprintError, match=f"{ENV_VAR} is not set"):
        blueprint_in_container({})


def test_container_with_corrupt_blueprint_says_so():
    with pytest.raises(ContainerBlueprintError, match="does not hold a usable Blueprint"):
        blueprint_in_container({ENV_VAR: "{not json"})
