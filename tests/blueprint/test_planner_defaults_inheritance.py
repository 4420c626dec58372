"""`defaults` inheritance and the planner's own defaults, applied to every container."""

from __future__ import annotations


def planned(blueprint, key):
    for spec in (*blueprint.functions, *blueprint.servers):
        if spec.key == key:
            return spec
    raise KeyError(key)


def container(blueprint, key):
    return planned(blueprint, key).container


def test_defaults_secrets_are_inherited_defaults_first(plan, fn_manifest):
    data = fn_manifest(
        {"job": {"handler": "pkg.mod:run", "image": "base", "secrets": ["own", "shared"]}},
        secrets={"shared": {}, "own": {}},
        defaults={"secrets": ["shared"]},
    )
    assert container(plan(data), "job").secrets == ("shared", "own")


def test_defaults_env_is_merged_and_the_object_wins(plan, fn_manifest):
    data = fn_manifest(
        {"job": {"handler": "pkg.mod:run", "image": "base", "env": {"LEVEL": "debug"}}},
        defaults={"env": {"LEVEL": "info", "REGION": "eu"}},
    )
    env = container(plan(data), "job").env
    assert env["LEVEL"] == "debug" and env["REGION"] == "eu"


def test_defaults_volumes_are_merged_with_the_objects(plan, fn_manifest):
    data = fn_manifest(
        {"job": {"handler": "pkg.mod:run", "image": "base", "volumes": {"/data": "data"}}},
        volumes={"data": {}, "cache": {}},
        defaults={"volumes": {"/cache": "cache"}},
    )
    mounts = {m.path: m.source for m in container(plan(data), "job").mounts}
    assert mounts == {"/cache": "cache", "/data": "data"}


def test_an_object_scalar_replaces_the_default(plan, fn_manifest):
    data = fn_manifest(
        {
            "a": {"handler": "pkg.mod:run", "image": "base", "timeout": "1h"},
            "b": {"handler": "pkg.mod:run", "image": "base"},
        },
        defaults={"timeout": "30m"},
    )
    blueprint = plan(data)
    assert planned(blueprint, "a").timeout == 3600
    assert planned(blueprint, "b").timeout == 1800


def test_defaults_image_applies_to_functions(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run"}}, defaults={"image": "base"})
    assert container(plan(data), "job").image == "base"


def test_defaults_scaledown_window_is_inherited(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}}, defaults={"scaledown_window": "5m"})
    assert container(plan(data), "job").scaling.scaledown_window == 300


def test_function_timeout_and_scaledown_default_to_modals(plan, fn_manifest):
    job = planned(plan(fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}})), "job")
    assert (job.timeout, job.container.scaling.scaledown_window) == (300, 60)


def test_every_container_knows_its_app_name(plan, fn_manifest, llm_manifest):
    for data in (fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}}), llm_manifest()):
        blueprint = plan(data)
        for spec in (*blueprint.functions, *blueprint.servers):
            assert spec.container.env["MDEPLOY_APP"] == blueprint.app


def test_cpu_is_a_float_even_when_written_as_an_integer(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base", "cpu": 2.0}}, defaults={"cpu": 1.0})
    cpu = container(plan(data), "job").cpu
    assert cpu == 2.0 and isinstance(cpu, float)


def test_region_default_is_inherited_as_a_tuple(plan, fn_manifest):
    data = fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}}, defaults={"region": "us-east"})
    assert container(plan(data), "job").region == ("us-east",)


def test_environment_is_main_when_none_is_given(plan, fn_manifest):
    assert plan(fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}})).environment == "main"


def test_environment_name_is_kept(plan, fn_manifest):
    assert plan(fn_manifest({"job": {"handler": "pkg.mod:run", "image": "base"}}), "prod").environment == "prod"
