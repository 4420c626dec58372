"""Hand-made Blueprints for the local runner's tests (independent of the planner)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from engine.blueprint.model import MountSpec, SecretArg, SecretSpec, ServerSpec, VolumeSpec, WebSpec
from tests.support import blueprints
from tests.support.blueprints import function

REPO = Path(__file__).resolve().parents[2]
FAKE_SERVER = str(REPO / "benchmarks" / "fake_openai_server.py")
TINY = "/models/tiny"


def server(
    *,
    key="chat",
    engine="transformers",
    command=("transformers", "serve", TINY, "--host", "0.0.0.0", "--port", "8000"),
    model=TINY,
    served=None,
    startup_timeout=60,
    **fields,
) -> ServerSpec:
    """A server whose `command` is the given one; None: the one its engine derives from its fields.

    Its serving settings are all written out (none left to the engine), as a manifest that sets
    every one: a derived command then carries every flag the local runner may rewrite.
    """
    return blueprints.server(
        engine,
        key=key,
        model=model,
        command=command,
        served_model_name=served or model,
        startup_timeout=startup_timeout,
        engine_defaults=(),
        **fields,
    )


def blueprint(servers=(), functions=(), secrets=(), volumes=()):
    return blueprints.blueprint(servers=servers, functions=functions, secrets=secrets, volumes=volumes)


def fake_engine_server(key="chat", **kwargs):
    """A server whose 'engine' is the fake OpenAI server: starts in a second, no model needed."""
    return server(
        key=key,
        engine="vllm",
        command=(sys.executable, FAKE_SERVER, "--host", "0.0.0.0", "--port", "8000"),
        model="fake-model",
        **kwargs,
    )


__all__ = [
    "MountSpec",
    "SecretArg",
    "SecretSpec",
    "VolumeSpec",
    "WebSpec",
    "blueprint",
    "function",
    "server",
    "fake_engine_server",
]


@pytest.fixture
def bp():
    """The builders, as a fixture: test modules cannot import this conftest by name."""
    import types

    return types.SimpleNamespace(
        server=server,
        blueprint=blueprint,
        function=function,
        fake_engine_server=fake_engine_server,
        MountSpec=MountSpec,
        SecretArg=SecretArg,
        SecretSpec=SecretSpec,
        VolumeSpec=VolumeSpec,
        WebSpec=WebSpec,
    )
