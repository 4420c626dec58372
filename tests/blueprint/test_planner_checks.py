"""Rules between an LLM service and its engine (engine/planner/checks.py): through
`mdeploy validate` for the located message, and through the planner for their edges."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.overlay import Merged


def test_a_mount_above_an_engine_cache_is_refused(rule_report):
    assert rule_report("mount_above_engine_cache.yaml")["problems"] == [
        "12:7: services.llm.volumes[\"/root/.cache\"]: volume 'home' mounted at /root/.cache covers the cache volumes "
        "vllm mounts below it: huggingface-cache at /root/.cache/huggingface and vllm-cache at /root/.cache/vllm "
        "(mount it elsewhere, or at /root/.cache/huggingface itself to be that cache)"
    ]


def test_a_bucket_cannot_be_an_engine_cache(rule_report):
    assert rule_report("mount_bucket_at_engine_cache.yaml")["problems"] == [
        "14:7: services.llm.buckets[\"/root/.cache/huggingface\"]: bucket 'weights' mounted at /root/.cache/huggingface "
        "takes the place of vllm's huggingface-cache volume, and a cache must be a volume (a bucket mount keeps no "
        "symlinks) (mount the bucket elsewhere; a volume of yours at this path is fine)"
    ]


def test_the_hub_cache_cannot_move_off_its_volume(rule_report):
    assert rule_report("env_overrides_hub_cache.yaml")["problems"] == [
        "10:7: services.llm.env.HF_HOME: HF_HOME moves vllm's cache off the huggingface-cache volume "
        "(/root/.cache/huggingface) to /tmp/hf, which no volume holds: it would be filled again on every cold start "
        "(remove it, so the cache stays on the huggingface-cache volume, or point it into a mounted volume)"
    ]


def test_an_engine_cache_variable_cannot_move_off_its_volume(rule_report):
    assert rule_report("env_overrides_engine_runtime_env.yaml")["problems"] == [
        "10:7: services.llm.env.SGLANG_DG_CACHE_DIR: SGLANG_DG_CACHE_DIR moves sglang's cache off the deepgemm-cache "
        "volume (/root/.cache/deepgemm) to /tmp/dg, which no volume holds: it would be filled again on every cold "
        "start (remove it, so the cache stays on the deepgemm-cache volume, or point it into a mounted volume)"
    ]


def test_the_api_key_variable_is_a_required_key_of_its_secret(rule_report):
    assert rule_report("auth_key_not_a_required_key.yaml")["problems"] == [
        "11:37: services.llm.auth.api_key_env: the API key is read from API_KEY, which secret 'llm-key' does not list "
        "in required_keys (set api_key_env to one of LLM_API_KEY, or add API_KEY to secrets.llm-key.required_keys)"
    ]


def _problems(plan, data) -> list[tuple[str, str]]:
    with pytest.raises(ManifestError) as info:
        plan(data)
    return [(p.key, p.message) for p in info.value.problems]


def test_a_volume_of_yours_at_a_cache_path_is_that_cache(plan, llm_manifest):
    data = llm_manifest(volumes={"/root/.cache/huggingface": "mine"})
    data["volumes"] = {"mine": {"name": "my-hf"}}
    mounts = {m.path: m.source for m in plan(data).servers[0].container.mounts}
    assert mounts["/root/.cache/huggingface"] == "mine"


def test_the_hub_cache_may_move_into_a_mounted_volume(plan, llm_manifest):
    data = llm_manifest(volumes={"/models": "weights"}, env={"HF_HOME": "/models/hf"})
    data["volumes"] = {"weights": {}}
    assert plan(data).servers[0].container.env["HF_HOME"] == "/models/hf"


def test_a_cache_variable_set_in_defaults_is_reported_there(plan, llm_manifest):
    data = llm_manifest()
    data["defaults"] = {"env": {"HF_HUB_CACHE": "/tmp/hub"}}
    key, message = _problems(plan, data)[0]
    assert key == "defaults.env.HF_HUB_CACHE"
    assert "(inherited by service 'chat')" in message


def test_a_cache_variable_from_a_variable_is_shown_as_its_reference(llm_manifest):

    from engine.manifest.validate import LoadedManifest, validate_data
    from engine.planner.plan import plan_app

    data = llm_manifest(env={"HF_HOME": "/tmp/s3cr3t-place"})
    interpolated = {("services", "chat", "env", "HF_HOME"): "${CACHE_PLACE}"}
    merged = Merged(data=data, spans={}, files=(), interpolated=interpolated)
    with pytest.raises(ManifestError) as info:
        plan_app(LoadedManifest(manifest=validate_data(data), merged=merged, environment=None, source="t.yaml"))
    assert "s3cr3t" not in info.value.format()
    assert "to ${CACHE_PLACE}, which no volume holds" in info.value.format()


def test_what_a_memory_snapshot_needs_cannot_be_overridden(plan, llm_manifest):
    data = llm_manifest(memory_snapshot=True, env={"VLLM_SERVER_DEV_MODE": "0"})
    assert _problems(plan, data) == [
        ("services.chat.env.VLLM_SERVER_DEV_MODE", "vllm needs VLLM_SERVER_DEV_MODE=1 here (memory snapshot or launch)")
    ]


def test_the_same_value_as_the_engines_is_not_an_override(plan, llm_manifest):
    data = llm_manifest(memory_snapshot=True, env={"VLLM_SERVER_DEV_MODE": "1"})
    assert plan(data).servers[0].container.env["VLLM_SERVER_DEV_MODE"] == "1"


def test_an_api_key_secret_without_required_keys_is_told_what_to_declare(plan, llm_manifest):
    data = llm_manifest(auth={"api_key_secret": "key"})
    data["secrets"] = {"key": {}}
    with pytest.raises(ManifestError) as info:
        plan(data)
    problem = info.value.problems[0]
    assert (problem.key, problem.hint) == (
        "services.chat.auth.api_key_secret",
        "add required_keys: [API_KEY] to secrets.key",
    )
