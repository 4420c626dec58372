"""Fakes for the two probes preflight looks through, and a small Blueprint written by hand."""

from __future__ import annotations

import pytest

from engine.blueprint.model import Blueprint, SecretSpec, ServerSpec, VolumeSpec
from engine.preflight.probes import NotOnHub, Unavailable
from tests.support import blueprints
from tests.support.blueprints import MODEL, REVISION

LLAMA_8B_CONFIG = {
    "hidden_size": 4096,
    "intermediate_size": 14336,
    "num_attention_heads": 32,
    "num_hidden_layers": 32,
    "num_key_value_heads": 8,
    "max_position_embeddings": 131072,
    "vocab_size": 128256,
    "torch_dtype": "bfloat16",
}


class FakeModal:
    """`volumes`: the names that exist; `files`: {(volume, folder): names} of what they hold."""

    def __init__(
        self,
        secrets: dict[str, set[str]] | None = None,
        volumes: set[str] = frozenset(),
        fail_with=None,
        files: dict[tuple[str, str], tuple[str, ...]] | None = None,
    ):
        self.secrets = secrets or {}
        self.volumes = set(volumes)
        self.fail_with = fail_with
        self.files = files or {}
        self.calls: list[tuple] = []

    def secret_problem(self, name, environment, required_keys):
        self.calls.append(("secret", name, environment))
        if self.fail_with:
            raise self.fail_with
        if name not in self.secrets:
            return f"Secret {name!r} not found"
        missing = sorted(set(required_keys) - self.secrets[name])
        return f"missing keys {missing}" if missing else None

    def volume_exists(self, name, environment):
        self.calls.append(("volume", name, environment))
        return name in self.volumes

    def folder_entries(self, name, environment, folder):
        self.calls.append(("folder", name, environment, folder))
        if self.fail_with:
            raise self.fail_with
        return self.files.get((name, folder), ()) if name in self.volumes else None


class FakeHub:
    def __init__(
        self, models: dict[tuple[str, str | None], dict] | None = None, parameters: int | None = 8_030_261_248
    ):
        self.models = models if models is not None else {(MODEL, REVISION): LLAMA_8B_CONFIG}
        self.parameters = parameters

    def check_revision(self, model, revision):
        if (model, revision) not in self.models:
            raise NotOnHub(f"{model} has no revision {revision}")

    def config(self, model, revision):
        self.check_revision(model, revision)
        return self.models[(model, revision)]

    def parameter_count(self, model, revision):
        return self.parameters


def make_server(gpu=("H100",), model=MODEL, engine="vllm", **settings) -> ServerSpec:
    """A server as the planner writes one (tests/support/blueprints.py): the serving settings
    given here, the engine's own defaults for the rest, and the command derived from them."""
    return blueprints.server(
        engine,
        model=model,
        served_model_name="llm",
        image="vllm",
        gpu=gpu,
        revision=None if model.startswith("/") else REVISION,
        **settings,
    )


def make_blueprint(servers=None, secrets=None, volumes=None) -> Blueprint:
    return blueprints.blueprint(
        app="chat-llama",
        environment="prod",
        source="manifests/chat.yaml",
        secrets=(SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",)),) if secrets is None else secrets,
        volumes=(VolumeSpec("hf-cache", "huggingface-cache"), VolumeSpec("data", "data", create_if_missing=False))
        if volumes is None
        else volumes,
        servers=(make_server(context_length=8192, max_sequences=16),) if servers is None else servers,
    )


@pytest.fixture
def fakes():
    return {
        "FakeModal": FakeModal,
        "FakeHub": FakeHub,
        "make_server": make_server,
        "make_blueprint": make_blueprint,
        "Unavailable": Unavailable,
        "config": LLAMA_8B_CONFIG,
    }
