"""The checks over fake probes: one rule each; no network, no Modal, no Hub."""

from __future__ import annotations

import pytest

from engine.preflight.checks import FAIL, PASS, SKIP, WARN, fit_verdict, run_checks
from engine.preflight.probes import Unavailable


def _by_check(results):
    return {r.check: r for r in results}


@pytest.fixture
def world(fakes):
    modal = fakes["FakeModal"](secrets={"huggingface-secret": {"HF_TOKEN"}}, volumes={"data"})
    return modal, fakes["FakeHub"]()


def test_everything_present_passes(fakes, world):
    results = run_checks(fakes["make_blueprint"](), *world)
    assert {r.check: r.status for r in results} == {
        "secret hf": PASS,
        "volume hf-cache": PASS,
        "volume data": PASS,
        "model chat": PASS,
        "fit chat": PASS,
    }


def test_checks_look_in_the_blueprints_environment(fakes, world):
    modal, hub = world
    run_checks(fakes["make_blueprint"](), modal, hub)
    assert {call[2] for call in modal.calls} == {"prod"}


def test_missing_secret_fails(fakes):
    results = _by_check(run_checks(fakes["make_blueprint"](), fakes["FakeModal"](volumes={"data"}), fakes["FakeHub"]()))
    assert results["secret hf"].status == FAIL
    assert "huggingface-secret" in results["secret hf"].message


def test_secret_without_a_required_key_fails(fakes):
    modal = fakes["FakeModal"](secrets={"huggingface-secret": {"OTHER"}}, volumes={"data"})
    result = _by_check(run_checks(fakes["make_blueprint"](), modal, fakes["FakeHub"]()))["secret hf"]
    assert result.status == FAIL and "HF_TOKEN" in result.message


def test_missing_volume_that_the_deploy_creates_passes(fakes, world):
    assert _by_check(run_checks(fakes["make_blueprint"](), *world))["volume hf-cache"].status == PASS


def test_missing_volume_that_the_deploy_does_not_create_fails(fakes):
    modal = fakes["FakeModal"](secrets={"huggingface-secret": {"HF_TOKEN"}})
    result = _by_check(run_checks(fakes["make_blueprint"](), modal, fakes["FakeHub"]()))["volume data"]
    assert result.status == FAIL and "modal volume create data" in result.message


def test_without_modal_every_modal_check_is_skipped_with_the_reason(fakes):
    results = run_checks(fakes["make_blueprint"](), Unavailable("no Modal credentials"), fakes["FakeHub"]())
    modal_checks = [r for r in results if r.check.startswith(("secret", "volume"))]
    assert modal_checks and all(r.status == SKIP and r.message == "no Modal credentials" for r in modal_checks)


def test_without_the_hub_model_and_fit_are_skipped_with_the_reason(fakes, world):
    results = _by_check(run_checks(fakes["make_blueprint"](), world[0], Unavailable("no network: huggingface.co")))
    assert (results["model chat"].status, results["fit chat"].status) == (SKIP, SKIP)
    assert results["model chat"].message == "no network: huggingface.co"


def test_probe_that_gives_up_midway_skips_that_check(fakes):
    modal = fakes["FakeModal"](fail_with=Unavailable("Modal did not answer"), volumes={"data"})
    result = _by_check(run_checks(fakes["make_blueprint"](), modal, fakes["FakeHub"]()))["secret hf"]
    assert (result.status, result.message) == (SKIP, "Modal did not answer")


def test_unknown_revision_fails(fakes, world):
    hub = fakes["FakeHub"](models={})
    result = _by_check(run_checks(fakes["make_blueprint"](), world[0], hub))["model chat"]
    assert result.status == FAIL and "no revision" in result.message


def test_model_on_a_volume_path_skips_the_hub_checks(fakes, world):
    blueprint = fakes["make_blueprint"](servers=(fakes["make_server"](model="/models/llama"),))
    results = _by_check(run_checks(blueprint, *world))
    assert results["model chat"].status == SKIP and "/models/llama" in results["model chat"].message


def test_server_without_gpu_skips_the_fit_check(fakes, world):
    blueprint = fakes["make_blueprint"](servers=(fakes["make_server"](gpu=()),))
    assert _by_check(run_checks(blueprint, *world))["fit chat"].status == SKIP


def test_fit_fails_when_one_full_context_sequence_does_not_fit(fakes):
    server = fakes["make_server"](gpu=("L4",), context_length=131072)
    status, message = fit_verdict(server, fakes["config"], 8_030_261_248)
    assert status == FAIL and "cannot start" in message


def test_fit_warns_when_not_all_concurrent_sequences_fit(fakes):
    server = fakes["make_server"](context_length=131072, max_sequences=64)
    status, message = fit_verdict(server, fakes["config"], 8_030_261_248)
    assert status == WARN and "holds 3 of 64" in message


def test_fit_uses_the_models_own_context_when_none_is_configured(fakes):
    # 131072 tokens by default: one sequence of 16 GiB plus 15 GiB of weights does not fit an L4
    status, _ = fit_verdict(fakes["make_server"](gpu=("L4",)), fakes["config"], 8_030_261_248)
    assert status == FAIL


def test_context_longer_than_the_model_supports_fails(fakes):
    server = fakes["make_server"](context_length=200000)
    status, message = fit_verdict(server, fakes["config"], 8_030_261_248)
    assert status == FAIL and "131072" in message


def test_quantization_flag_shrinks_the_weights(fakes):
    settings = dict(context_length=4096, max_sequences=1, memory_utilization=0.9)
    plain = fit_verdict(fakes["make_server"](gpu=("T4",), **settings), fakes["config"], 8_030_261_248)
    awq = fit_verdict(fakes["make_server"](gpu=("T4",), quantization="awq", **settings), fakes["config"], 8_030_261_248)
    assert (plain[0], awq[0]) == (FAIL, PASS)


def test_gpu_fallback_list_is_judged_by_its_smallest_option(fakes):
    server = fakes["make_server"](gpu=("H100", "L4"), context_length=131072, max_sequences=1)
    assert fit_verdict(server, fakes["config"], 8_030_261_248)[0] == FAIL


def test_estimated_parameter_count_is_said_so(fakes):
    _, message = fit_verdict(fakes["make_server"](context_length=4096), fakes["config"], None)
    assert "estimated" in message
