"""Handlers are checked statically: each rule through `mdeploy validate`, at the handler's value.

The module of `package.module:attr` must be a file of the project (never the standard library,
an installed distribution or a target that runs arbitrary code); the attribute must exist and be
what the manifest's use needs, callable as Modal will call it. The modules are read, never run.
"""

from __future__ import annotations


def test_handler_module_must_be_a_file_of_the_project(rule_report):
    assert rule_report("handler_module_missing.yaml")["problems"] == [
        "5:14: functions.work.handler: no module 'jobs.missing' in this project: neither jobs/missing.py nor "
        "jobs/missing/__init__.py under tests/manifest/data/project/ (did you mean 'jobs.tasks'?)"
    ]


def test_handler_in_the_standard_library_is_refused(rule_report):
    assert rule_report("handler_stdlib_module.yaml")["problems"] == [
        "5:14: functions.work.handler: 'json' is Python's standard library, not a module of this project "
        "(under tests/manifest/data/project/) (mdeploy ships only the project's own packages: write a function "
        "in one of them that calls it)"
    ]


def test_handler_in_an_installed_distribution_is_refused_naming_it(rule_report):
    assert rule_report("handler_installed_distribution.yaml")["problems"] == [
        "5:14: functions.work.handler: 'yaml' is the installed distribution PyYAML, not a module of this project "
        "(under tests/manifest/data/project/) (mdeploy ships only the project's own packages: write a function "
        "in one of them that calls it, and install the distribution with the image's pip)"
    ]


def test_handler_targets_that_run_arbitrary_code_are_refused_by_name(rule_report):
    hint = "(name a function of your own package, e.g. jobs.tasks:run)"
    assert rule_report("handler_dangerous_target.yaml")["problems"] == [
        f"5:14: functions.shell.handler: 'os:system' is refused: os runs programs and shell commands {hint}",
        f"7:14: functions.spawn.handler: 'subprocess:run' is refused: subprocess runs programs {hint}",
        f"9:14: functions.ev.handler: 'builtins:eval' is refused: builtins evaluates arbitrary code (eval, exec) {hint}",
    ]


def test_handler_attribute_must_exist_with_did_you_mean(rule_report):
    assert rule_report("handler_attribute_missing.yaml")["problems"] == [
        "5:14: functions.work.handler: module 'jobs.tasks' has no top-level 'proces' (did you mean 'process'?)"
    ]


def test_function_handler_must_be_a_function(rule_report):
    assert rule_report("handler_not_a_function.yaml")["problems"] == [
        "5:14: functions.work.handler: 'jobs.tasks:RETRIES' is a number, not a function "
        "(name a function of the module: a def or async def)"
    ]


def test_function_handler_cannot_be_a_generator(rule_report):
    assert rule_report("handler_generator.yaml")["problems"] == [
        "5:14: functions.work.handler: 'jobs.tasks:stream' (jobs/tasks.py:42) is a generator function; mdeploy "
        "functions return their result, they cannot yield (collect the items into a list and return it)"
    ]


def test_scheduled_handler_must_be_callable_without_arguments(rule_report):
    assert rule_report("handler_scheduled_needs_arguments.yaml")["problems"] == [
        "5:14: functions.nightly.handler: 'jobs.tasks:needs_two' (jobs/tasks.py:25) requires 'a' and 'b', but a "
        "schedule calls it with no arguments (give those parameters defaults, or remove the schedule)"
    ]


def test_batched_handler_parameters_take_no_defaults(rule_report):
    assert rule_report("handler_batched_parameter_default.yaml")["problems"] == [
        "5:14: functions.embed.handler: 'jobs.batch:with_default' (jobs/batch.py:8) gives 'size' a default; Modal "
        "refuses defaults in batched functions (remove the default: every input of a batch passes every parameter)"
    ]


def test_batched_handler_needs_a_list_parameter(rule_report):
    assert rule_report("handler_batched_no_parameters.yaml")["problems"] == [
        "5:14: functions.embed.handler: 'jobs.batch:no_params' (jobs/batch.py:12) takes no parameters, but a "
        "batched function receives each parameter as the list of the batch's inputs (take the inputs as a list, "
        "e.g. def no_params(items: list) -> list)"
    ]


def test_get_endpoint_cannot_take_a_request_body(rule_report):
    assert rule_report("handler_get_endpoint_body.yaml")["problems"] == [
        "8:14: functions.search.handler: 'webapps.api:search' (webapps/api.py:29) takes 'body: dict', which "
        "FastAPI reads from the request body, but the endpoint answers GET (set web.method: POST, PUT or PATCH, "
        "or take only query parameters: str, int, float, bool)"
    ]


def test_asgi_app_must_be_an_app_not_a_value(rule_report):
    assert rule_report("handler_asgi_not_an_app.yaml")["problems"] == [
        "9:10: services.api.app: 'webapps.api:NOT_AN_APP' is a number, not an ASGI app "
        "(name the app object, e.g. app = FastAPI())"
    ]


def test_asgi_app_is_not_a_factory(rule_report):
    assert rule_report("handler_asgi_factory.yaml")["problems"] == [
        "9:10: services.api.app: 'webapps.api:make_app' (webapps/api.py:12) is a function that takes no arguments, "
        "an app factory; mdeploy serves the object it names as the app (create the app at module level, "
        "app = make_app(), and name that)"
    ]


def test_asgi_app_function_must_take_scope_receive_send(rule_report):
    assert rule_report("handler_asgi_function_not_an_app.yaml")["problems"] == [
        "9:10: services.api.app: 'webapps.api:make_app_with' (webapps/api.py:17) is a function of (config), "
        "neither an ASGI app (scope, receive, send) nor an app object (name the app object, e.g. app = FastAPI())"
    ]


def test_python_sources_in_the_standard_library_are_refused(rule_report):
    assert rule_report("python_sources_standard_library.yaml")["problems"] == [
        "5:22: images.base.python_sources[0]: 'json' is Python's standard library, which every image already has (remove it)"
    ]


def test_python_sources_must_exist_to_be_shipped(rule_report):
    assert rule_report("python_sources_missing.yaml")["problems"] == [
        "5:22: images.base.python_sources[0]: no package 'helpers' in this project (under tests/manifest/data/project/) "
        "or installed here, so the deploy cannot ship it (name a top-level package of the project)"
    ]


def test_reexports_all_async_variadic_and_app_objects_resolve(rule_report):
    report = rule_report("handler_reexports_resolve.yaml")
    assert report["problems"] == []
    assert report["summary"] == [
        "ok tests/manifest/data/project/rules/handler_reexports_resolve.yaml [base]: 2 services, 8 functions, 1 image"
    ]


def test_an_absolute_model_path_must_lie_in_a_mount(rule_report):
    assert rule_report("model_path_not_mounted.yaml")["problems"] == [
        "7:19: services.llm.model.path: no volume or bucket is mounted at or above /models/qwen, and vllm's image "
        "does not hold it (mount the volume that holds the weights, e.g. volumes: {/models: weights})"
    ]
