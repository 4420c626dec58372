"""Functions and web services -> FunctionSpec."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError


def only_function(blueprint):
    (fn,) = blueprint.functions
    return fn


def test_cron_schedule_keeps_expression_and_timezone(plan, fn_manifest):
    data = fn_manifest(
        {
            "job": {
                "handler": "pkg.mod:run",
                "image": "base",
                "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"},
            }
        }
    )
    schedule = only_function(plan(data)).schedule
    assert (schedule.kind, schedule.cron, schedule.timezone) == ("cron", "0 3 * * *", "Europe/Berlin")


def test_period_schedule_is_in_seconds(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base", "schedule": {"every": "4h"}}})
    schedule = only_function(plan(data)).schedule
    assert (schedule.kind, schedule.seconds) == ("period", 4 * 3600)


def test_retry_count_shorthand_uses_modal_backoff_defaults(plan, fn_manifest):
    retries = only_function(
        plan(fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base", "retries": 3}}))
    ).retries
    assert (retries.max_retries, retries.backoff_coefficient, retries.initial_delay, retries.max_delay) == (
        3,
        2.0,
        1.0,
        60.0,
    )


def test_batching_is_planned(plan, fn_manifest):
    data = fn_manifest(
        {"job": {"handler": "pkg.mod:run", "image": "base", "batching": {"max_batch_size": 8, "wait_ms": 100}}}
    )
    batching = only_function(plan(data)).batching
    assert (batching.max_batch_size, batching.wait_ms) == (8, 100)


def test_function_web_endpoint_is_a_fastapi_endpoint_with_proxy_auth(plan, fn_manifest):
    data = fn_manifest({"hook": {"handler": "pkg.mod:run", "image": "base", "web": {"method": "POST"}}})
    web = only_function(plan(data)).web
    assert (web.kind, web.method, web.requires_proxy_auth) == ("fastapi_endpoint", "POST", True)


def test_function_web_endpoint_defaults_to_get(plan, fn_manifest):
    data = fn_manifest({"hook": {"handler": "pkg.mod:run", "image": "base", "web": {}}})
    assert only_function(plan(data)).web.method == "GET"


def test_function_web_endpoint_proxy_auth_can_be_turned_off(plan, fn_manifest):
    data = fn_manifest({"hook": {"handler": "pkg.mod:run", "image": "base", "web": {"proxy_auth": False}}})
    assert only_function(plan(data)).web.requires_proxy_auth is False


def test_web_service_requires_proxy_auth_by_default(plan):
    data = {
        "version": 1,
        "app": "site",
        "images": {"web": {"pip": ["fastapi[standard]==0.115.6"]}},
        "services": {"api": {"kind": "web", "app": "site.main:app", "image": "web"}},
    }
    assert only_function(plan(data)).web.requires_proxy_auth is True


def test_function_without_any_image_gets_a_pinned_debian_slim(plan):
    blueprint = plan({"version": 1, "app": "jobs", "functions": {"job": {"handler": "pkg.mod:run"}}})
    (image,) = blueprint.images
    assert only_function(blueprint).container.image == image.key
    assert (image.base, image.python_version) == ("debian_slim", "3.12")


def test_web_function_without_an_image_is_an_error(plan):
    with pytest.raises(ManifestError) as info:
        plan({"version": 1, "app": "jobs", "functions": {"hook": {"handler": "pkg.mod:run", "web": {}}}})
    assert info.value.problems[0].key == "functions.hook.web"


def test_web_service_asgi_becomes_an_asgi_app(plan):
    data = {
        "version": 1,
        "app": "site",
        "images": {"web": {"pip": ["fastapi[standard]==0.115.6"]}},
        "services": {
            "api": {
                "kind": "web",
                "app": "site.main:app",
                "image": "web",
                "auth": {"proxy": False},
                "label": "site-api",
            }
        },
    }
    fn = only_function(plan(data))
    assert (fn.handler, fn.web.kind, fn.web.requires_proxy_auth, fn.web.label) == (
        "site.main:app",
        "asgi_app",
        False,
        "site-api",
    )
    assert fn.web.method is None


def test_fastapi_endpoint_service_method_defaults_to_get(plan):
    data = {
        "version": 1,
        "app": "site",
        "images": {"web": {"pip": ["fastapi[standard]==0.115.6"]}},
        "services": {
            "hello": {"kind": "web", "app": "site.main:hello", "interface": "fastapi_endpoint", "image": "web"}
        },
    }
    assert only_function(plan(data)).web.method == "GET"


def test_web_service_without_an_image_is_an_error(plan):
    data = {"version": 1, "app": "site", "services": {"api": {"kind": "web", "app": "site.main:app"}}}
    with pytest.raises(ManifestError) as info:
        plan(data)
    assert info.value.problems[0].key == "services.api"


def test_function_concurrency_is_planned(plan, fn_manifest):
    data = fn_manifest(
        {"job": {"handler": "pkg.mod:run", "image": "base", "concurrency": {"max_inputs": 8, "target_inputs": 4}}}
    )
    c = only_function(plan(data)).concurrency
    assert (c.max_inputs, c.target_inputs) == (8, 4)
