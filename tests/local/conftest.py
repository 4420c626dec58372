"""Hand-made Blueprints for the local runner's tests (independent of the planner)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from engine.blueprint.model import (
    Blueprint,
    ContainerSpec,
    FunctionSpec,
    MountSpec,
    SecretArg,
    SecretSpec,
    ServerSpec,
    VolumeSpec,
    WebSpec,
)
from engine.engines.registry import get_engine

REPO = Path(__file__).resolve().parents[2]
FAKE_SERVER = str(REPO / "benchmarks" / "fake_openai_server.py")


def server(
    *,
    key="chat",
    engine="transformers",
    command=("transformers", "serve", "/models/tiny", "--host", "0.0.0.0", "--port", "8000"),
    gpu=(),
    secrets=(),
    env=None,
    mounts=(),
    secret_args=(),
    model="/models/tiny",
    served=None,
    startup_timeout=60,
    engine_options=None,
    revision=None,
):
    """A server whose `command` is the given one; None: the one its engine derives from its fields."""
    spec = ServerSpec(
        key=key,
        symbol=key.capitalize(),
        name=key,
        engine=engine,
        model=model,
        served_model_name=served or model,
        container=ContainerSpec(image="img", gpu=gpu, secrets=secrets, env=env or {}, mounts=mounts),
        command=tuple(command or ()),
        startup_timeout=startup_timeout,
        secret_args=secret_args,
        engine_options=engine_options or {},
        needs_gpu=get_engine(engine).needs_gpu,
        revision=revision,
    )
    return spec if command is not None else dataclasses.replace(spec, command=get_engine(engine).command(spec))


def blueprint(servers=(), functions=(), secrets=(), volumes=()):
    return Blueprint(
        app="demo",
        environment="main",
        source="manifests/demo.yaml",
        servers=tuple(servers),
        functions=tuple(functions),
        secrets=tuple(secrets),
        volumes=tuple(volumes),
    )


def function(key="job", handler="pkg.mod:run", web=None, env=None, secrets=(), mounts=()):
    return FunctionSpec(
        key=key,
        symbol=key,
        name=key,
        handler=handler,
        container=ContainerSpec(image="img", env=env or {}, secrets=secrets, mounts=mounts),
        web=web,
    )


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
