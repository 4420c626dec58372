"""A manifest's Modal names come from its Blueprint, in the forms Modal's CLI takes them."""

from __future__ import annotations

import pytest

from engine.errors import UserError
from engine.operate.names import modal_names
from engine.planner.plan import plan_file


def _names(manifest: str, env: str | None = "prod"):
    blueprint = plan_file(manifest, env)
    return blueprint, modal_names(blueprint, env)


def test_servers_and_functions_are_named_as_the_planner_named_them():
    blueprint, names = _names("manifests/embeddings.yaml")
    assert names.app == blueprint.app == "embeddings"
    assert [(o.kind, o.key, o.name, o.ref) for o in names.objects] == [
        ("function", f.key, f.name, f"embeddings/{f.name}") for f in blueprint.functions
    ]


def test_llm_servers_and_web_endpoints_are_what_a_smoke_check_calls():
    _, names = _names("manifests/embeddings.yaml")
    assert [(o.key, o.web, o.requires_proxy_auth, o.method) for o in names.http_objects] == [
        ("embed-http", "fastapi_endpoint", True, "POST")
    ]
    _, chat = _names("manifests/chat.yaml")
    (llama,) = chat.http_objects
    assert (llama.kind, llama.web, llama.health_path, llama.served_model_name) == ("server", "llm", "/health", "llm")


def test_a_server_whose_api_key_comes_from_a_secret_names_the_variable_it_reads():
    blueprint, names = _names("manifests/sglang-qwen.yaml")
    (server,) = blueprint.servers
    (obj,) = names.objects
    assert obj.api_key_env == server.secret_args[0].env == "LLM_API_KEY"


def test_no_environment_chosen_means_none_is_passed():
    _, names = _names("manifests/chat.yaml", None)
    assert names.env is None


def test_an_unknown_key_names_the_known_ones():
    _, names = _names("manifests/pipeline.yaml")
    with pytest.raises(
        UserError, match=r"'dicover' is not a service or function of app doc-pipeline \(known: discover, work, drain\)"
    ):
        names.by_key("dicover")
