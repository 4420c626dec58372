"""Fixtures for planner tests: plan a manifest given as data, without files or positions.

Golden Blueprints (test_golden_blueprints.py) are regenerated with
`MDEPLOY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/blueprint` — an environment variable rather than
a pytest option, because an option must be declared in the root conftest, which is shared.
"""

from __future__ import annotations

import copy

import pytest

from engine.manifest.overlay import Merged
from engine.manifest.validate import LoadedManifest, validate_data
from engine.planner.plan import plan_app

LLAMA = "meta-llama/Llama-3.1-8B-Instruct"
LLAMA_REV = "0e9e39f249a16976918f6564b8830bc894c89659"


def _plan(data: dict, environment: str | None = None):
    manifest = validate_data(data)
    merged = Merged(data=data, spans={}, files=())
    return plan_app(LoadedManifest(manifest=manifest, merged=merged, environment=environment, source="test.yaml"))


@pytest.fixture
def plan():
    """plan(data, environment=None) -> Blueprint."""
    return _plan


@pytest.fixture
def llm_manifest():
    """llm_manifest(**service_fields) -> manifest data with one vLLM service `chat`."""

    def make(**fields) -> dict:
        service = {
            "kind": "llm",
            "engine": "vllm",
            "model": {"id": LLAMA, "revision": LLAMA_REV},
            "gpu": "H100",
        }
        service.update(copy.deepcopy(fields))
        return {"version": 1, "app": "chat", "services": {"chat": service}}

    return make


@pytest.fixture
def fn_manifest():
    """fn_manifest(functions: dict, **top_level) -> manifest data with those functions."""

    def make(functions: dict, **top) -> dict:
        data = {
            "version": 1,
            "app": "jobs",
            "images": {"base": {"python": "3.12"}},
            "functions": copy.deepcopy(functions),
        }
        data.update(copy.deepcopy(top))
        return data

    return make
