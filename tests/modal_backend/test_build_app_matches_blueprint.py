"""The app built from a Blueprint holds exactly what the Blueprint says, read back offline."""

from __future__ import annotations

import itertools

import modal
import pytest
from modal._utils.async_utils import synchronizer

from engine.blueprint.model import Blueprint, FunctionSpec, ServerSpec
from tests.modal_backend.blueprints import all_blueprints
from tests.modal_backend.introspect import build_into_module, load_closure, service_function

_counter = itertools.count()


def _built(blueprint: Blueprint):
    return build_into_module(blueprint, f"mdeploy_test_entry_{next(_counter)}")


def _functions() -> list[tuple[str, FunctionSpec]]:
    return [(name, f) for name, bp in all_blueprints().items() for f in bp.functions]


def _servers() -> list[tuple[str, ServerSpec]]:
    return [(name, s) for name, bp in all_blueprints().items() for s in bp.servers]


def _ids(pairs):
    return [f"{name}-{spec.key}" for name, spec in pairs]


@pytest.fixture(scope="module")
def built_modules():
    return {name: _built(bp)[1] for name, bp in all_blueprints().items()}


def _function_info(built_modules, name: str, spec: FunctionSpec):
    return _info(getattr(built_modules[name], spec.symbol))


def _info(obj):
    """`info()` of a Function; of a Cls (`kind: cls`), its class service function's."""
    if isinstance(obj, modal.Cls):
        return synchronizer._translate_out(service_function(obj)).info()
    return obj.info()


def _expected_gpus(gpu: tuple[str, ...]) -> list[tuple[str, int]]:
    result = []
    for entry in gpu:
        kind, _, count = entry.partition(":")
        result.append((kind, int(count or 1)))
    return result


def _expected_secret_reprs(blueprint: Blueprint, secret_keys, env) -> list[str]:
    names = {s.key: s.name for s in blueprint.secrets}
    reprs = ["Secret.from_dict([MDEPLOY_BLUEPRINT])"] + [f"modal.Secret.from_name({names[k]!r})" for k in secret_keys]
    if env:
        reprs.append(f"Secret.from_dict([{', '.join(sorted(env))}])")
    return reprs


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_resources_match_blueprint(built_modules, name, spec):
    info = _function_info(built_modules, name, spec)
    container = spec.container
    assert info.gpus == _expected_gpus(container.gpu)
    assert (info.cpu, info.memory_mib, info.ephemeral_disk_mib) == (
        container.cpu,
        container.memory,
        container.ephemeral_disk,
    )
    assert info.timeout == spec.timeout
    assert info.regions == (list(container.region) if container.region else None)
    assert info.cloud == container.cloud


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_mounts_match_blueprint(built_modules, name, spec):
    info = _function_info(built_modules, name, spec)
    blueprint = all_blueprints()[name]
    volumes = {v.key: v for v in blueprint.volumes}
    buckets = {b.key: b for b in blueprint.buckets}
    expected_volumes = {m.path: volumes[m.source].name for m in spec.container.mounts if m.kind == "volume"}
    expected_buckets = {
        m.path: (buckets[m.source].bucket_name, buckets[m.source].read_only, buckets[m.source].key_prefix)
        for m in spec.container.mounts
        if m.kind == "bucket"
    }
    assert {path: mount.name for path, mount in info.volumes.items()} == expected_volumes
    assert {
        path: (mount.bucket_name, mount.read_only, mount.key_prefix) for path, mount in info.cloud_bucket_mounts.items()
    } == expected_buckets


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_secrets_are_app_blueprint_then_named_then_env(built_modules, name, spec):
    info = _function_info(built_modules, name, spec)
    blueprint = all_blueprints()[name]
    assert info.secrets == _expected_secret_reprs(blueprint, spec.container.secrets, spec.container.env)


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_schedule_matches_blueprint(built_modules, name, spec):
    info = _function_info(built_modules, name, spec)
    schedule = spec.schedule
    if schedule is None:
        assert info.schedule is None
    elif schedule.kind == "cron":
        assert info.schedule == f"Cron({schedule.cron!r}, {schedule.timezone})"
    else:
        assert info.schedule == f"Period(seconds={float(schedule.seconds)})"


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_retries_match_blueprint(built_modules, name, spec):
    function = getattr(built_modules[name], spec.symbol)
    policy = load_closure(function)["retry_policy"]
    if spec.retries is None:
        assert policy is None
    else:
        assert policy.retries == spec.retries.max_retries
        assert policy.backoff_coefficient == spec.retries.backoff_coefficient
        assert policy.initial_delay_ms == int(spec.retries.initial_delay * 1000)
        assert policy.max_delay_ms == int(spec.retries.max_delay * 1000)


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_concurrency_and_batching_match_blueprint(built_modules, name, spec):
    info = _function_info(built_modules, name, spec)
    if spec.concurrency is None:
        assert info.concurrency_info is None
    else:
        assert (info.concurrency_info.max_inputs, info.concurrency_info.target_inputs) == (
            spec.concurrency.max_inputs,
            spec.concurrency.target_inputs,
        )
    # A class's batched method is batched on its class service function.
    batching = spec.batching or (spec.cls.batched[0] if spec.cls is not None and spec.cls.batched else None)
    if batching is None:
        assert info.batching_info is None
    else:
        assert (info.batching_info.max_batch_size, info.batching_info.wait_ms) == (
            batching.max_batch_size,
            batching.wait_ms,
        )
    if spec.cls is not None:
        assert sorted(info.method_names) == sorted([*spec.cls.methods, *(b.name for b in spec.cls.batched)])


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_web_settings_match_blueprint(built_modules, name, spec):
    function = getattr(built_modules[name], spec.symbol)
    info = _info(function)
    if spec.web is None:
        assert info.web_info is None
        return
    assert info.web_info.unauthenticated is (not spec.web.requires_proxy_auth)
    assert info.web_info.method == (spec.web.method if spec.web.kind == "fastapi_endpoint" else None)
    webhook = load_closure(function)["webhook_config"]
    assert webhook.requested_suffix == (spec.web.label or "")
    if spec.web.kind == "fastapi_endpoint":
        assert webhook.web_endpoint_docs is spec.web.docs


@pytest.mark.parametrize(("name", "spec"), _functions(), ids=_ids(_functions()))
def test_function_scaling_and_snapshot_match_blueprint(built_modules, name, spec):
    captured = load_closure(getattr(built_modules[name], spec.symbol))
    scaling = captured["autoscaler_settings"]
    expected = spec.container.scaling
    assert scaling.min_containers == expected.min_containers
    assert (scaling.max_containers if scaling.HasField("max_containers") else None) == expected.max_containers
    assert scaling.buffer_containers == expected.buffer_containers
    assert scaling.scaledown_window == expected.scaledown_window
    assert captured["enable_memory_snapshot"] is spec.container.enable_memory_snapshot
    assert captured["single_use_containers"] is (spec.max_inputs == 1)


@pytest.mark.parametrize(("name", "spec"), _servers(), ids=_ids(_servers()))
def test_server_settings_match_blueprint(built_modules, name, spec):
    info = getattr(built_modules[name], spec.symbol).info()
    assert (info.port, info.startup_timeout, info.exit_grace_period) == (
        spec.port,
        spec.startup_timeout,
        spec.exit_grace_period,
    )
    assert info.unauthenticated is (not spec.requires_proxy_auth)
    assert info.routing_region == spec.routing_region
    assert info.gpus == _expected_gpus(spec.container.gpu)
    assert (info.cpu, info.memory_mib) == (spec.container.cpu, spec.container.memory)
    assert info.compute_regions == (list(spec.container.region) or None)


@pytest.mark.parametrize(("name", "spec"), _servers(), ids=_ids(_servers()))
def test_server_mounts_and_secrets_match_blueprint(built_modules, name, spec):
    info = getattr(built_modules[name], spec.symbol).info()
    blueprint = all_blueprints()[name]
    volumes = {v.key: v.name for v in blueprint.volumes}
    assert {p: m.name for p, m in info.volumes.items()} == {
        m.path: volumes[m.source] for m in spec.container.mounts if m.kind == "volume"
    }
    assert info.secrets == _expected_secret_reprs(blueprint, spec.container.secrets, spec.container.env)


@pytest.mark.parametrize(("name", "spec"), _servers(), ids=_ids(_servers()))
def test_server_scaling_concurrency_and_snapshot_match_blueprint(built_modules, name, spec):
    captured = load_closure(getattr(built_modules[name], spec.symbol))
    scaling = captured["autoscaler_settings"]
    expected = spec.container.scaling
    assert (scaling.min_containers, scaling.max_containers, scaling.buffer_containers, scaling.scaledown_window) == (
        expected.min_containers,
        expected.max_containers,
        expected.buffer_containers,
        expected.scaledown_window,
    )
    assert scaling.target_concurrency_float == spec.target_concurrency
    assert captured["max_concurrent_inputs"] == spec.max_concurrency
    assert captured["enable_memory_snapshot"] is spec.container.enable_memory_snapshot
    assert (captured["experimental_options"] == {"enable_gpu_snapshot": "True"}) is spec.container.gpu_snapshot
