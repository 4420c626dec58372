"""`caches:` of an llm service (engine/planner/caches.py): each engine cache volume
renamed, moved or turned off; a volume of the user's at a cache path serves as that cache. The
located messages through `mdeploy validate` (rule manifests), the rest through the planner."""

from __future__ import annotations

import copy

import pytest

from engine.blueprint.model import CacheSpec
from engine.manifest.errors import ManifestError


def _server(plan, data):
    blueprint = plan(data)
    return blueprint, blueprint.servers[0]


def _mounts(server) -> dict[str, str]:
    return {m.path: m.source for m in server.container.mounts}


def test_no_caches_key_keeps_the_engine_volumes_and_lists_nothing(plan, llm_manifest):
    blueprint, server = _server(plan, llm_manifest())
    assert _mounts(server) == {"/root/.cache/huggingface": "hf-cache", "/root/.cache/vllm": "vllm-cache"}
    assert server.caches == ()
    assert "VLLM_CACHE_ROOT" not in server.container.env and "HF_HOME" not in server.container.env


def test_a_renamed_cache_is_a_volume_of_that_modal_name(plan, llm_manifest):
    blueprint, server = _server(plan, llm_manifest(caches={"huggingface": {"volume": "team-hf"}}))
    volumes = {v.key: v.name for v in blueprint.volumes}
    key = _mounts(server)["/root/.cache/huggingface"]
    assert volumes[key] == "team-hf"
    assert server.caches == (
        CacheSpec(name="huggingface", state="volume", path="/root/.cache/huggingface", volume=key),
    )


def test_a_rename_to_a_declared_volume_reuses_its_key(plan, llm_manifest):
    data = llm_manifest(caches={"huggingface": {"volume": "team-hf"}})
    data["volumes"] = {"shared": {"name": "team-hf"}}
    blueprint, server = _server(plan, data)
    assert _mounts(server)["/root/.cache/huggingface"] == "shared"
    assert [v.key for v in blueprint.volumes].count("shared") == 1
    assert all(v.name != "huggingface-cache" for v in blueprint.volumes)


def test_a_moved_cache_is_mounted_there_and_its_variable_points_there(plan, llm_manifest):
    _, server = _server(plan, llm_manifest(caches={"vllm": {"path": "/cache/vllm"}, "huggingface": {"path": "/hf"}}))
    assert _mounts(server) == {"/hf": "hf-cache", "/cache/vllm": "vllm-cache"}
    assert server.container.env["VLLM_CACHE_ROOT"] == "/cache/vllm"
    assert server.container.env["HF_HOME"] == "/hf"


def test_a_moved_cache_of_an_engine_that_sets_its_variable_moves_that_variable(plan, llm_manifest):
    data = llm_manifest(engine="sglang", caches={"deepgemm": {"path": "/dg"}})
    _, server = _server(plan, data)
    assert _mounts(server)["/dg"] == "deepgemm-cache"
    assert "/root/.cache/deepgemm" not in _mounts(server)
    assert server.container.env["SGLANG_DG_CACHE_DIR"] == "/dg"
    assert server.engine_env["SGLANG_DG_CACHE_DIR"] == "/dg"


def test_a_cache_turned_off_has_no_volume_and_no_mount(plan, llm_manifest):
    blueprint, server = _server(plan, llm_manifest(caches={"vllm": False, "huggingface": True}))
    assert _mounts(server) == {"/root/.cache/huggingface": "hf-cache"}
    assert all(v.name != "vllm-cache" for v in blueprint.volumes)
    assert server.caches == (CacheSpec(name="vllm", state="off", path="/root/.cache/vllm"),)


def test_a_mount_above_a_cache_turned_off_is_fine(plan, llm_manifest):
    data = llm_manifest(volumes={"/root/.cache/vllm-and-more": "mine"}, caches={"vllm": False})
    data["services"]["chat"]["volumes"] = {"/root/.cache": "mine"}
    data["services"]["chat"]["caches"] = {"vllm": False, "huggingface": {"path": "/hf"}}
    data["volumes"] = {"mine": {}}
    _, server = _server(plan, data)
    assert _mounts(server) == {"/root/.cache": "mine", "/hf": "hf-cache"}


def test_your_volume_at_a_cache_path_is_that_cache_and_no_extra_volume_appears(plan, llm_manifest):
    data = llm_manifest(volumes={"/root/.cache/huggingface": "mine"})
    data["volumes"] = {"mine": {"name": "my-hf"}}
    blueprint, server = _server(plan, data)
    assert _mounts(server)["/root/.cache/huggingface"] == "mine"
    assert {v.name for v in blueprint.volumes} == {"my-hf", "vllm-cache"}
    assert server.caches == (
        CacheSpec(name="huggingface", state="user", path="/root/.cache/huggingface", volume="mine"),
    )


def test_your_volume_at_a_moved_cache_path_is_that_cache(plan, llm_manifest):
    data = llm_manifest(volumes={"/cache/vllm": "mine"}, caches={"vllm": {"path": "/cache/vllm"}})
    data["volumes"] = {"mine": {}}
    blueprint, server = _server(plan, data)
    assert _mounts(server)["/cache/vllm"] == "mine"
    assert all(v.name != "vllm-cache" for v in blueprint.volumes)
    assert server.container.env["VLLM_CACHE_ROOT"] == "/cache/vllm"
    assert server.caches[0].state == "user"


def _hub_model(llm_manifest, **fields) -> dict:
    data = llm_manifest(model="qwen", **fields)
    data["volumes"] = {"weights": {"name": "qwen-weights"}}
    data["models"] = {
        "qwen": {
            "id": "Qwen/Qwen2.5-0.5B-Instruct",
            "revision": "7ae557604adf67be50417f59c2c2f167def9a775",
            "volume": "weights",
        }
    }
    return data


def test_a_hub_model_volume_still_holds_the_hub_cache_wherever_it_is_moved(plan, llm_manifest):
    _, server = _server(plan, _hub_model(llm_manifest, caches={"huggingface": {"path": "/hf"}}))
    assert _mounts(server)["/hf"] == "weights"
    assert server.container.env["HF_HOME"] == "/hf"


def test_a_hub_model_volume_named_again_under_caches_is_fine(plan, llm_manifest):
    _, server = _server(plan, _hub_model(llm_manifest, caches={"huggingface": {"volume": "qwen-weights"}}))
    assert _mounts(server)["/root/.cache/huggingface"] == "weights"


def test_a_hub_model_cache_cannot_be_turned_off(plan, llm_manifest):
    with pytest.raises(ManifestError) as info:
        plan(_hub_model(llm_manifest, caches={"huggingface": False}))
    assert [p.key for p in info.value.problems] == ["services.chat.caches.huggingface"]


def test_an_unknown_cache_name_is_located_with_the_engine_caches(rule_report):
    assert rule_report("caches_unknown_name.yaml")["problems"] == [
        "10:7: services.llm.caches.vlm: vllm has no cache named 'vlm': its caches are huggingface, vllm "
        "(did you mean 'vllm'?)"
    ]


def test_env_may_not_point_a_moved_cache_elsewhere(rule_report):
    assert rule_report("caches_env_points_elsewhere.yaml")["problems"] == [
        "12:7: services.llm.env.VLLM_CACHE_ROOT: VLLM_CACHE_ROOT is where the engine keeps the cache that `caches` "
        "moves to /cache/vllm; set here to another folder, the engine would write off its volume "
        "(remove it: mdeploy sets it from caches)"
    ]


def test_a_cache_volume_other_than_the_models_is_a_conflict(rule_report):
    assert rule_report("caches_model_volume_conflict.yaml")["problems"] == [
        "17:21: services.llm.caches.huggingface.volume: the service's model is cached in volume 'weights' "
        "(Modal name 'weights'), which serves as its huggingface cache; it cannot also be 'other-cache' "
        "(remove volume here, or change the volume of the models entry)"
    ]


def test_a_mount_above_a_moved_cache_is_refused(rule_report):
    assert rule_report("caches_moved_under_a_mount.yaml")["problems"] == [
        "12:7: services.llm.volumes[\"/data\"]: volume 'data' mounted at /data covers the cache volume vllm mounts "
        "below it: vllm-cache at /data/vllm (mount it elsewhere, or at /data/vllm itself to be that cache)"
    ]


def test_a_cache_setting_of_the_wrong_type_is_refused(plan, llm_manifest):
    with pytest.raises(ManifestError):
        plan(llm_manifest(caches={"vllm": {"path": "relative/path"}}))
    with pytest.raises(ManifestError):
        plan(llm_manifest(caches={"vllm": {"size": 3}}))


def test_defaults_caches_apply_to_every_llm_service_and_the_service_entry_wins(plan, llm_manifest):
    data = llm_manifest(caches={"vllm": True})
    data["services"]["sg"] = {**data["services"]["chat"], "engine": "sglang", "caches": {}}
    data["defaults"] = {"caches": {"huggingface": {"volume": "team-hf"}, "vllm": False}}
    blueprint, chat = _server(plan, data)
    sg = blueprint.servers[1]
    names = {v.key: v.name for v in blueprint.volumes}
    assert names[_mounts(chat)["/root/.cache/huggingface"]] == "team-hf"
    assert _mounts(chat)["/root/.cache/vllm"] == "vllm-cache"  # the service's `true` wins over the default
    assert names[_mounts(sg)["/root/.cache/huggingface"]] == "team-hf"  # sglang has no vllm cache: skipped
    assert "/root/.cache/deepgemm" in _mounts(sg)
    assert [c.name for c in chat.caches] == ["huggingface"]


def test_a_default_cache_name_no_engine_has_is_reported_once(plan, llm_manifest):
    data = llm_manifest()
    data["services"]["other"] = copy.deepcopy(data["services"]["chat"])
    data["defaults"] = {"caches": {"hugginface": False}}
    with pytest.raises(ManifestError) as info:
        plan(data)
    ((key, message),) = [(p.key, p.message) for p in info.value.problems]
    assert key == "defaults.caches.hugginface"
    assert "no engine has cache named 'hugginface'" in message


def test_a_hub_model_keeps_its_volume_over_an_inherited_one(plan, llm_manifest):
    data = _hub_model(llm_manifest)
    data["defaults"] = {"caches": {"huggingface": {"volume": "team-hf", "path": "/hf"}}}
    _, server = _server(plan, data)
    assert _mounts(server)["/hf"] == "weights"
    data["defaults"] = {"caches": {"huggingface": False}}
    _, server = _server(plan, data)
    assert _mounts(server)["/root/.cache/huggingface"] == "weights"


def test_two_caches_may_not_overlap(plan, llm_manifest):
    with pytest.raises(ManifestError) as info:
        plan(llm_manifest(caches={"vllm": {"path": "/root/.cache/huggingface/vllm"}}))
    ((key, message),) = [(p.key, p.message) for p in info.value.problems]
    assert key == "services.chat.caches.vllm.path"
    assert "overlap" in message
