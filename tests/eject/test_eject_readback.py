"""The ejected file, imported with `modal`, builds an app whose objects read back as the Blueprint says.

Offline: `Function.info()` / `Server.info()` of dehydrated handles report what the decorators
were given, without a token or network.
"""

from __future__ import annotations

import dataclasses

import pytest

from engine.eject.render import render_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def ejected(blueprint, import_source):
    return import_source(render_app(blueprint))


def test_every_blueprint_object_is_registered_under_its_modal_name(blueprint, ejected, read_back):
    expected = sorted([f.name for f in blueprint.functions] + [s.name for s in blueprint.servers])
    assert sorted(read_back(ejected.app)) == expected


def test_every_object_is_bound_under_its_symbol(blueprint, ejected):
    for spec in (*blueprint.functions, *blueprint.servers):
        assert hasattr(ejected, spec.symbol), spec.symbol


def test_server_reads_back_its_http_and_resource_settings(blueprint, ejected):
    spec = blueprint.servers[0]
    info = ejected.Chat.info()
    assert (info.port, info.startup_timeout, info.routing_region) == (
        spec.port,
        spec.startup_timeout,
        spec.routing_region,
    )
    assert info.unauthenticated is (not spec.requires_proxy_auth)
    assert info.gpus == [("H100", 2)]
    assert (info.cpu, info.memory_mib, info.compute_regions) == (4.0, 32768, ["us-east"])
    assert {path: v.name for path, v in info.volumes.items()} == {
        "/root/.cache/huggingface": "huggingface-cache",
        "/root/.cache/vllm": "vllm-cache",
    }


def test_function_reads_back_schedule_retries_concurrency_and_mounts(ejected):
    info = ejected.ingest.info()
    assert info.schedule == "Cron('0 3 * * *', Europe/Berlin)"
    assert info.max_retries == 3
    assert (info.concurrency_info.max_inputs, info.concurrency_info.target_inputs) == (8, 4)
    assert (info.timeout, info.regions, info.cloud) == (3600, ["us-east", "us-west"], "aws")
    assert info.cloud_bucket_mounts["/raw"].bucket_name == "acme-raw-data"
    assert info.cloud_bucket_mounts["/raw"].read_only is True


def test_period_schedule_reads_back_as_the_same_number_of_seconds(ejected, read_back):
    assert read_back(ejected.app)["nightly-report"]["schedule"] == "Period(seconds=14400)"


def test_gpu_fallback_list_keeps_its_order(ejected):
    assert ejected.nightly_report.info().gpus == [("L4", 1), ("A10", 1)]


def test_single_use_function_reads_back_as_single_use(ejected):
    assert ejected.nightly_report.info().single_use_containers is True


def test_web_functions_read_back_their_endpoint_kind_and_auth(ejected):
    api = ejected.api.info().web_info
    score = ejected.score.info().web_info
    assert (api.method, api.unauthenticated) == (None, False)
    assert (score.method, score.unauthenticated) == ("POST", True)


def test_env_travels_as_a_dict_secret_of_key_names(ejected):
    assert "Secret.from_dict([VLLM_LOGGING_LEVEL])" in ejected.Chat.info().secrets


def test_server_without_gpu_reads_back_no_gpu(blueprint, make_server, import_source):
    cpu_server = make_server(
        container=dataclasses.replace(
            blueprint.servers[0].container, gpu=(), enable_memory_snapshot=False, gpu_snapshot=False
        ),
        snapshot=None,
        command=("python", "-m", "server", "--port", "8000"),
    )
    module = import_source(render_app(dataclasses.replace(blueprint, servers=(cpu_server,))))
    assert module.Chat.info().gpus == []
