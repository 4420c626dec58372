"""Rules of the ejected source itself: valid, deterministic, self-contained, readable, no secrets."""

from __future__ import annotations

import ast
import dataclasses

from engine.blueprint.model import SecretSpec
from engine.eject.render import render_app


def _imported_modules(source: str) -> set[str]:
    """Top-level modules imported at module level (handler imports inside functions excluded)."""
    tree = ast.parse(source)
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def test_ejected_source_compiles(blueprint):
    compile(render_app(blueprint), "app.py", "exec")


def test_ejected_source_is_deterministic(blueprint):
    assert render_app(blueprint) == render_app(dataclasses.replace(blueprint))


def test_ejected_source_imports_only_modal_and_stdlib_at_module_level(blueprint):
    import sys

    modules = _imported_modules(render_app(blueprint))
    assert "modal" in modules
    assert modules - {"modal"} <= set(sys.stdlib_module_names)


def test_ejected_source_never_imports_mdeploy(blueprint):
    source = render_app(blueprint)
    assert "engine.blueprint" not in source and "MDEPLOY_BLUEPRINT" not in source


def test_handlers_are_imported_from_their_packages_inside_the_function(blueprint):
    tree = ast.parse(render_app(blueprint))
    ingest = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "ingest")
    imports = [n for n in ast.walk(ingest) if isinstance(n, ast.ImportFrom)]
    assert [(i.module, [a.name for a in i.names]) for i in imports] == [("pipeline.ingest", ["run"])]


def test_model_constants_are_at_the_top_and_used_by_the_command(blueprint):
    source = render_app(blueprint)
    tree = ast.parse(source)
    assigned = {
        t.id: n.value for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
    }
    server = blueprint.servers[0]
    assert ast.literal_eval(assigned["MODEL_NAME"]) == server.model
    assert ast.literal_eval(assigned["MODEL_REVISION"]) == server.command[server.command.index("--revision") + 1]
    assert ast.literal_eval(assigned["N_GPU"]) == 2
    assert '"--revision", MODEL_REVISION' in source
    # constants come before the first decorated object
    first_constant = source.index("MODEL_NAME =")
    assert first_constant < source.index("@app.")


def test_each_server_gets_prefixed_constants_when_there_are_several(blueprint, make_server):
    second = make_server(key="coder", symbol="Coder", name="coder", model="Qwen/Qwen2.5-Coder-7B")
    source = render_app(dataclasses.replace(blueprint, servers=(*blueprint.servers, second)))
    assert 'CHAT_MODEL_NAME = "meta-llama/Llama-3.1-8B-Instruct"' in source
    assert 'CODER_MODEL_NAME = "Qwen/Qwen2.5-Coder-7B"' in source
    assert "\nMODEL_NAME =" not in source


def test_one_definition_per_function_and_server_in_blueprint_order(blueprint):
    tree = ast.parse(render_app(blueprint))
    symbols = [f.symbol for f in blueprint.functions] + [s.symbol for s in blueprint.servers]
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assert [name for name in defined if name in symbols] == symbols


def test_secrets_appear_by_name_and_secret_args_are_read_from_the_environment(blueprint):
    source = render_app(blueprint)
    assert 'modal.Secret.from_name("huggingface-secret", required_keys=["HF_TOKEN"])' in source
    assert 'os.environ["API_KEY"]' in source


def test_secret_names_are_written_but_nothing_else_about_them(blueprint):
    # A secret only ever has a name and key names in a Blueprint; eject writes exactly those.
    secret = SecretSpec("tok", "team-token", ("TOKEN",))
    source = render_app(dataclasses.replace(blueprint, secrets=(*blueprint.secrets, secret)))
    assert source.count("team-token") == 1


def test_durations_read_as_minutes_and_hours(blueprint):
    source = render_app(blueprint)
    assert "scaledown_window=15 * MINUTES" in source
    assert "timeout=HOURS" in source


def test_server_without_snapshot_starts_in_a_plain_enter(blueprint, make_server):
    plain = make_server(
        snapshot=None,
        container=dataclasses.replace(blueprint.servers[0].container, enable_memory_snapshot=False, gpu_snapshot=False),
    )
    source = render_app(dataclasses.replace(blueprint, servers=(plain,)))
    assert "@modal.enter()\n    def start(self):" in source
    assert "snap=" not in source


def test_strings_with_quotes_and_braces_stay_valid_python(blueprint, make_server):
    odd = make_server(health_path='/he{al}th"', model='we"ird/mo\\del')
    compile(render_app(dataclasses.replace(blueprint, servers=(odd,))), "app.py", "exec")


def test_object_named_like_a_name_the_file_needs_is_refused(blueprint):
    import pytest

    from engine.errors import UserError

    clash = dataclasses.replace(blueprint.functions[0], key="app", symbol="app", name="app")
    with pytest.raises(UserError, match="'app'.*rename it"):
        render_app(dataclasses.replace(blueprint, functions=(clash,)))


def test_named_dicts_and_queues_are_declared_and_created_on_first_use(blueprint):
    source = render_app(blueprint)
    assert 'results_dict = modal.Dict.from_name("pipeline-results", create_if_missing=True)' in source
    assert 'jobs_queue = modal.Queue.from_name("jobs", create_if_missing=True)' in source


def test_mdeploys_own_package_is_not_shipped_but_handler_packages_are(blueprint):
    from engine.blueprint.model import ImageStep

    image = blueprint.images[0]
    with_handlers = dataclasses.replace(
        image, steps=(*image.steps[:-1], ImageStep("add_local_python_source", ("engine", "pipeline")))
    )
    source = render_app(dataclasses.replace(blueprint, images=(with_handlers, *blueprint.images[1:])))
    assert '.add_local_python_source("pipeline")' in source
    assert '"engine"' not in source


def test_a_servers_scaleup_window_is_written_though_info_cannot_show_it(blueprint):
    # Function.info() has no autoscaler settings, so the readback comparison cannot see this one.
    source = render_app(blueprint)
    server_decorator = source[source.index("@app.server(") : source.index("class Chat:")]
    assert "scaleup_window=30," in server_decorator
    assert "scaleup_window" not in source.replace(server_decorator, "")
