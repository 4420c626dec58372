"""Engine defaults: images are pinned and Modal-shaped, caches are volumes at fixed paths."""

from __future__ import annotations

import json
import re

import pytest

from engine.engines.common import HF_CACHE, chat_warmup
from engine.engines.registry import ENGINES, get_engine

ALL = sorted(ENGINES)


@pytest.mark.parametrize("name", ALL)
def test_every_engine_caches_hugging_face_downloads(name):
    assert HF_CACHE in ENGINES[name].caches
    assert HF_CACHE.path == "/root/.cache/huggingface"


@pytest.mark.parametrize("name", ALL)
def test_every_pip_requirement_is_pinned(name):
    image = ENGINES[name].default_image()
    for step in image.steps:
        if step.op in ("pip_install", "uv_pip_install"):
            for req in step.args:
                assert re.search(r"==[0-9]", req), f"{name}: {req} is not pinned"


@pytest.mark.parametrize("name", ALL)
def test_every_engine_turns_on_xet_high_performance_at_run_time(name):
    assert ENGINES[name].runtime_env.get("HF_XET_HIGH_PERFORMANCE") == "1"


@pytest.mark.parametrize("name", ALL)
def test_default_images_carry_no_run_time_env(name):
    # Run-time env belongs to the container (Engine.runtime_env), so a service naming its own
    # image keeps it; an image env step would be lost with the image.
    assert [s for s in ENGINES[name].default_image().steps if s.op == "env"] == []


@pytest.mark.parametrize("name", ALL)
def test_registry_images_clear_the_entrypoint(name):
    image = ENGINES[name].default_image()
    if image.base == "registry":
        assert image.clear_entrypoint and ":" in image.registry_ref


@pytest.mark.parametrize("name", ALL)
def test_image_key_names_the_engine(name):
    assert ENGINES[name].default_image().key == f"{name}-default"


@pytest.mark.parametrize("name", ALL)
def test_cache_keys_and_paths_are_unique(name):
    caches = ENGINES[name].caches
    assert len({c.key for c in caches}) == len(caches)
    assert len({c.path for c in caches}) == len(caches)


def test_vllm_image_is_cuda_devel_with_python_added():
    image = get_engine("vllm").default_image()
    assert image.registry_ref == "nvidia/cuda:13.0.2-devel-ubuntu22.04"  # vllm 0.33.0 runs on torch cu130
    assert image.python_version == "3.12"


def test_vllm_caches_its_compile_cache():
    assert "/root/.cache/vllm" in {c.path for c in get_engine("vllm").caches}


def test_sglang_caches_deepgemm_kernels_where_sglang_looks():
    engine = get_engine("sglang")
    (dg,) = [c for c in engine.caches if c.key == "deepgemm-cache"]
    assert engine.runtime_env["SGLANG_DG_CACHE_DIR"] == dg.path


def test_trtllm_installs_from_nvidia_index_with_openmpi():
    steps = get_engine("trtllm").default_image().steps
    apt = [s for s in steps if s.op == "apt_install"][0]
    pip = [s for s in steps if s.op == "pip_install"][0]
    assert "libopenmpi-dev" in apt.args
    assert pip.extra_index_url == "https://pypi.nvidia.com"


def test_transformers_runs_without_gpu_on_debian_slim():
    engine = get_engine("transformers")
    assert engine.needs_gpu is False
    assert engine.default_image().base == "debian_slim"


def test_vllm_snapshot_uses_sleep_level_one_and_dev_mode():
    engine = get_engine("vllm")
    assert engine.snapshot.sleep_path == "/sleep?level=1"
    assert engine.snapshot.wake_path == "/wake_up"
    assert engine.snapshot_env["VLLM_SERVER_DEV_MODE"] == "1"


def test_trtllm_engine_build_cache_lives_on_its_volume():
    engine = get_engine("trtllm")
    assert engine.runtime_env["TLLM_LLMAPI_BUILD_CACHE"] == "1"
    assert engine.runtime_env["TLLM_LLMAPI_BUILD_CACHE_ROOT"] in {c.path for c in engine.caches}


def test_engines_without_sleep_mode_offer_no_snapshot():
    assert get_engine("trtllm").snapshot is None
    assert get_engine("transformers").snapshot is None


def test_sglang_snapshot_releases_and_resumes_memory_occupation():
    snapshot = get_engine("sglang").snapshot
    assert (snapshot.sleep_path, snapshot.wake_path) == ("/release_memory_occupation", "/resume_memory_occupation")


def test_api_key_flags():
    assert get_engine("vllm").api_key_flag == "--api-key"
    assert get_engine("sglang").api_key_flag == "--api-key"
    assert get_engine("trtllm").api_key_flag is None


def test_health_path_is_health_for_all():
    assert {e.health_path for e in ENGINES.values()} == {"/health"}


def test_chat_warmup_names_the_served_model_and_is_deterministic():
    a = chat_warmup("llm", 2)
    assert a == chat_warmup("llm", 2)
    assert json.loads(a.body)["model"] == "llm"
    assert a.path == "/v1/chat/completions" and a.requests == 2


def test_unknown_engine_names_the_known_ones():
    with pytest.raises(KeyError, match="vllm"):
        get_engine("tgi")
