"""Images (which ones, which steps, local sources last) and symbol names."""

from __future__ import annotations

import keyword

from engine.planner.names import SymbolTable, class_symbol, function_symbol


def image(blueprint, key):
    return {i.key: i for i in blueprint.images}[key]


def test_engine_and_handler_packages_are_added_last(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "workloads.jobs:run", "image": "base"}})
    data["images"]["base"]["python_sources"] = ["helpers"]
    data["images"]["base"]["pip"] = ["requests==2.32.3"]
    steps = image(plan(data), "base").steps
    assert steps[-1].op == "add_local_python_source"
    assert steps[-1].args == ("engine", "helpers", "workloads")
    assert [s.op for s in steps].count("add_local_python_source") == 1


def test_every_image_carries_the_engine_package(plan, llm_manifest):
    for spec in plan(llm_manifest()).images:
        assert "engine" in spec.steps[-1].args


def test_unused_images_are_not_planned(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}})
    data["images"]["unused"] = {"python": "3.11"}
    assert [i.key for i in plan(data).images] == ["base"]


def test_one_engine_image_serves_every_service_of_that_engine(plan, llm_manifest):
    data = llm_manifest()
    data["services"]["second"] = dict(data["services"]["chat"])
    assert [i.key for i in plan(data).images] == ["vllm-default"]


def test_recipe_steps_follow_the_documented_order(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}})
    data["images"]["base"].update(
        {"apt": ["git"], "pip": ["x==1"], "installer": "pip", "env": {"A": "1"}, "run": ["echo hi"], "workdir": "/app"}
    )
    ops = [s.op for s in image(plan(data), "base").steps]
    assert ops == ["apt_install", "pip_install", "env", "run_commands", "workdir", "add_local_python_source"]


def test_registry_image_keeps_its_reference_and_clears_the_entrypoint(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}})
    data["images"]["base"] = {"registry": "nvidia/cuda:12.8.0-devel-ubuntu22.04", "python": "3.12"}
    spec = image(plan(data), "base")
    assert (spec.base, spec.registry_ref, spec.clear_entrypoint) == (
        "registry",
        "nvidia/cuda:12.8.0-devel-ubuntu22.04",
        True,
    )


def test_image_defaults_pin_python_on_debian_slim_and_clear_a_registry_entrypoint(plan, fn_manifest):
    data = fn_manifest(
        {"cuda-job": {"handler": "pkg.mod:run", "image": "cuda"}, "job": {"handler": "pkg.mod:run", "image": "plain"}}
    )
    data["images"] = {"cuda": {"registry": "nvidia/cuda:12.8.0-devel-ubuntu22.04"}, "plain": {"pip": ["x==1"]}}
    cuda, plain = image(plan(data), "cuda"), image(plan(data), "plain")
    assert (cuda.python_version, cuda.clear_entrypoint) == (None, True)
    assert (plain.python_version, plain.clear_entrypoint) == ("3.12", False)
    assert plain.steps[0].op == "uv_pip_install"


def test_registry_image_keeps_its_entrypoint_when_asked(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}})
    data["images"]["base"] = {"registry": "nvidia/cuda:12.8.0-devel-ubuntu22.04", "clear_entrypoint": False}
    assert image(plan(data), "base").clear_entrypoint is False


def test_image_python_default_is_the_one_the_schema_documents():
    from engine.manifest.models.images import Image
    from engine.planner.defaults import IMAGE_PYTHON_VERSION

    assert f'Default for debian_slim: "{IMAGE_PYTHON_VERSION}"' in Image.model_fields["python"].description


def test_class_symbols_are_camel_case_identifiers():
    assert class_symbol("chat-api") == "ChatApi"
    assert class_symbol("llama-70b") == "Llama70b"


def test_function_symbols_are_snake_case_identifiers():
    assert function_symbol("embed-http") == "embed_http"
    assert function_symbol("Ingest.Daily") == "ingest_daily"


def test_symbols_never_start_with_a_digit():
    assert class_symbol("70b").isidentifier() and function_symbol("3d").isidentifier()


def test_keywords_and_entry_module_names_are_avoided():
    assert not keyword.iskeyword(function_symbol("class"))
    assert function_symbol("app") != "app"


def test_clashing_symbols_get_a_numbered_suffix():
    table = SymbolTable()
    assert [table.claim("job"), table.claim("job"), table.claim("job")] == ["job", "job_2", "job_3"]


def test_modal_names_are_the_manifest_keys(plan, llm_manifest):
    server = plan(llm_manifest()).servers[0]
    assert (server.name, server.symbol) == ("chat", "Chat")
