"""The manifest rules, one per test, through `validate_data` (plain data, no positions)."""

from __future__ import annotations

import copy

import pydantic
import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.validate import validate_data

REV = "0e9e39f249a16976918f6564b8830bc894c89659"


def base() -> dict:
    return {
        "version": 1,
        "app": "demo",
        "images": {"base": {"python": "3.12", "pip": ["fastapi==0.115.12"]}},
        "volumes": {"weights": {}, "hf-cache": {"name": "huggingface-cache"}},
        "secrets": {"hf": {"name": "huggingface-secret", "required_keys": ["HF_TOKEN"]}, "aws": {}},
        "buckets": {"raw": {"bucket": "acme-raw", "secret": "aws", "key_prefix": "raw/"}},
        "dicts": {"results": {}},
        "queues": {"jobs": {}},
        "defaults": {"image": "base", "secrets": ["hf"], "timeout": "10m"},
        "services": {
            "chat": {
                "kind": "llm",
                "engine": "vllm",
                "model": {"id": "meta-llama/Llama-3.1-8B-Instruct", "revision": REV},
                "gpu": "H100:2",
                "engine_args": {"tensor_parallel_size": 2},
                "volumes": {"/root/.cache/huggingface": "hf-cache"},
            },
            "api": {"kind": "web", "app": "webapp.main:app"},
        },
        "functions": {
            "ingest": {
                "handler": "pipeline.ingest:run",
                "schedule": {"cron": "0 3 * * *", "timezone": "Europe/Berlin"},
                "buckets": {"/raw": "raw"},
            }
        },
    }


def problems(data: dict) -> list[tuple[str, str, str | None]]:
    with pytest.raises(ManifestError) as info:
        validate_data(data)
    return [(p.key, p.message, p.hint) for p in info.value.problems]


def only_problem(data: dict) -> tuple[str, str, str | None]:
    found = problems(data)
    assert len(found) == 1, found
    return found[0]


def with_(path: str, value, data: dict | None = None) -> dict:
    data = copy.deepcopy(data or base())
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[part]
    node[last] = value
    return data


def test_the_base_manifest_is_valid():
    manifest = validate_data(base())
    assert manifest.services["chat"].gpu == ("H100:2",)
    assert manifest.defaults.timeout == 600


def test_unknown_key_suggests_the_close_one():
    data = with_("services.chat.fast_bot", True)
    assert only_problem(data) == ("services.chat.fast_bot", "unknown key 'fast_bot'", "did you mean 'fast_boot'?")


def test_misspelt_modal_argument_points_to_its_new_place():
    key, _, hint = only_problem(with_("functions.ingest.scaledown_windw", 60))
    assert (key, hint) == ("functions.ingest.scaledown_windw", "did you mean scaling.scaledown_window?")


@pytest.mark.parametrize(
    ("legacy", "current"),
    [
        ("container_idle_timeout", "scaling.scaledown_window"),
        ("keep_warm", "scaling.min_containers"),
        ("concurrency_limit", "scaling.max_containers"),
        ("allow_concurrent_inputs", "concurrency.max_inputs"),
        ("web_endpoint", "web"),
    ],
)
def test_legacy_modal_keys_name_the_current_key(legacy, current):
    _, message, hint = only_problem(with_(f"functions.ingest.{legacy}", 1))
    assert "old name" in message and hint.startswith(f"write {current}")


def test_bool_field_refuses_yaml11_words():
    key, message, hint = only_problem(with_("services.chat.fast_boot", "no"))
    assert key == "services.chat.fast_boot" and "write true or false" in hint


def test_string_field_refuses_numbers_and_says_quote_it():
    key, message, hint = only_problem(with_("images.base.python", 3.1))
    assert key == "images.base.python" and hint == 'quote it: "3.1"'


def test_env_values_must_be_text():
    _, _, hint = only_problem(with_("functions.ingest.env", {"WORKERS": 1}))
    assert hint == 'quote it: "1"'


def test_int_field_refuses_quoted_numbers():
    _, message, hint = only_problem(with_("services.chat.port", "8000"))
    assert "expected a number" in message and hint == "remove the quotes"


def test_missing_required_key_is_reported_with_its_description():
    data = base()
    del data["services"]["chat"]["gpu"]
    key, message, hint = only_problem(data)
    assert (key, message) == ("services.chat.gpu", "missing required key 'gpu'") and "GPU" in hint


def test_union_tags_never_appear_in_keys():
    data = with_("services.chat.engine_args", {"max_model_len": "long"})
    assert only_problem(data)[0] == "services.chat.engine_args.max_model_len"


def test_unknown_engine_suggests_the_close_one():
    key, message, hint = only_problem(with_("services.chat.engine", "vlm"))
    assert (key, hint) == ("services.chat.engine", "did you mean 'vllm'?")


def test_missing_kind_lists_the_kinds():
    data = base()
    del data["services"]["api"]["kind"]
    assert only_problem(data) == ("services.api.kind", "missing required key 'kind'", "add kind: llm | server | web")


def test_engine_args_follow_the_engine():
    data = with_("services.chat.engine_args", {"mem_fraction_static": 0.8})
    assert only_problem(data)[:2] == (
        "services.chat.engine_args.mem_fraction_static",
        "unknown key 'mem_fraction_static'",
    )


def test_tensor_parallel_must_equal_gpu_count():
    key, message, _ = only_problem(with_("services.chat.gpu", "H100:4"))
    assert key == "services.chat.engine_args.tensor_parallel_size" and "GPU count 4" in message


def test_vllm_requires_a_gpu_but_transformers_does_not():
    data = base()
    del data["services"]["chat"]["gpu"]
    data["services"]["chat"]["engine"] = "transformers"
    data["services"]["chat"]["engine_args"] = {}
    validate_data(data)


def test_transformers_on_cuda_needs_a_gpu():
    data = base()
    del data["services"]["chat"]["gpu"]
    data["services"]["chat"]["engine"] = "transformers"
    data["services"]["chat"]["engine_args"] = {"device": "cuda"}
    key, message, hint = only_problem(data)
    assert (key, message) == ("services.chat.engine_args.device", "device cuda needs a GPU")
    assert hint == 'add gpu: "L4" or use device: cpu'


def test_hub_model_revision_must_be_pinned_commit():
    key, message, hint = only_problem(with_("services.chat.model.revision", "main"))
    assert key == "services.chat.model.revision" and "pin a commit" in hint


def test_hub_model_without_revision_is_refused():
    data = base()
    del data["services"]["chat"]["model"]["revision"]
    assert "pinned `revision`" in only_problem(data)[1]


def test_model_needs_exactly_one_of_id_or_path():
    data = with_("services.chat.model", {"id": "a/b", "revision": REV, "path": "/models/x"})
    assert "exactly one" in only_problem(data)[1]


def test_scaling_min_must_not_exceed_max():
    key, message, _ = only_problem(with_("services.chat.scaling", {"min_containers": 3, "max_containers": 2}))
    assert key == "services.chat.scaling.min_containers" and "above max_containers" in message


@pytest.mark.parametrize("window", [1, "2h"])
def test_scaledown_window_within_modal_bounds(window):
    key, message, _ = only_problem(with_("services.chat.scaling", {"scaledown_window": window}))
    assert key == "services.chat.scaling.scaledown_window" and "between 2 and 3600" in message


def test_concurrency_target_must_not_exceed_max():
    assert (
        only_problem(with_("services.chat.concurrency", {"target": 10, "max": 5}))[0]
        == "services.chat.concurrency.target"
    )


def test_batching_and_concurrency_are_exclusive():
    data = with_("functions.ingest.batching", {"max_batch_size": 8, "wait_ms": 10})
    data = with_("functions.ingest.concurrency", {"max_inputs": 4}, data)
    assert "cannot be combined" in only_problem(data)[1]


def test_batching_excludes_web():
    data = with_("functions.ingest.batching", {"max_batch_size": 8, "wait_ms": 10})
    data = with_("functions.ingest.web", {"method": "POST"}, data)
    assert "web endpoint" in only_problem(data)[1]


def test_batch_size_within_modal_limit():
    data = with_("functions.ingest.batching", {"max_batch_size": 1001, "wait_ms": 10})
    assert only_problem(data)[:2] == ("functions.ingest.batching.max_batch_size", "must be at most 1000 (got 1001)")


def test_cron_error_points_at_cron():
    key, message, _ = only_problem(with_("functions.ingest.schedule", {"cron": "0 25 * * *"}))
    assert (key, message) == ("functions.ingest.schedule.cron", "hour 25 is out of range 0-23")


def test_timezone_error_suggests_the_close_one():
    key, _, hint = only_problem(with_("functions.ingest.schedule", {"cron": "0 3 * * *", "timezone": "Europe/Berln"}))
    assert (key, hint) == ("functions.ingest.schedule.timezone", "did you mean 'Europe/Berlin'?")


def test_schedule_is_cron_or_every_not_both():
    assert "either `cron`" in only_problem(with_("functions.ingest.schedule", {"cron": "0 3 * * *", "every": "4h"}))[1]


def test_every_schedule_parses_duration():
    manifest = validate_data(with_("functions.ingest.schedule", {"every": "4h"}))
    assert manifest.functions["ingest"].schedule.every == 14400


def test_references_to_undeclared_secrets_are_located():
    assert only_problem(with_("functions.ingest.secrets", ["hf", "openai"])) == (
        "functions.ingest.secrets[1]",
        "no secret 'openai' is declared in `secrets`",
        "declare it under `secrets:`",
    )


def test_references_suggest_close_names():
    assert only_problem(with_("services.chat.image", "bse"))[2] == "did you mean 'base'?"


def test_volume_and_bucket_references_resolve():
    data = with_("functions.ingest.volumes", {"/data": "weight"})
    data = with_("functions.ingest.buckets", {"/raw": "rw"}, data)
    assert [p[0] for p in problems(data)] == ['functions.ingest.buckets["/raw"]', 'functions.ingest.volumes["/data"]']


def test_bucket_secret_reference_resolves():
    assert only_problem(with_("buckets.raw.secret", "gcp"))[0] == "buckets.raw.secret"


def test_references_are_checked_even_when_types_fail_elsewhere():
    data = with_("functions.ingest.secrets", ["nope"])
    data = with_("services.chat.port", "x", data)
    assert len(problems(data)) == 2


def test_service_and_function_names_unique_as_identifiers():
    data = with_(
        "functions.chat_api", {"handler": "a.b:c"}, with_("services.chat-api", {"kind": "web", "app": "a.b:c"})
    )
    key, message, _ = only_problem(data)
    assert key == "functions.chat_api" and "'chat_api'" in message


def test_same_volume_mounted_twice_is_refused():
    assert "already mounted" in only_problem(with_("functions.ingest.volumes", {"/a": "weights", "/b": "weights"}))[1]


def test_volume_and_bucket_on_one_path_is_refused():
    data = with_("functions.ingest.volumes", {"/raw": "weights"})
    assert "both mounted" in only_problem(data)[1]


def test_app_name_follows_modal_rule():
    assert only_problem(with_("app", "my app"))[0] == "app"


def test_resource_keys_follow_modal_rule():
    data = base()
    data["volumes"]["bad name"] = {}
    assert only_problem(data)[:2] == ('volumes["bad name"]', "is not a valid Modal name")


def test_version_must_be_one():
    assert only_problem(with_("version", 2))[1] == "must be one of: 1 (got 2)"


def test_timeout_on_an_llm_service_is_refused_naming_what_bounds_a_server():
    key, message, hint = only_problem(with_("services.chat.timeout", 3600))
    assert key == "services.chat.timeout"
    assert "app.server has no such parameter" in message
    assert "startup_timeout" in hint and "remove it" in hint


def test_defaults_timeout_is_accepted_beside_an_llm_service():
    # It applies to functions and web services; the llm service simply has none.
    assert validate_data(base()).defaults.timeout == 600


def test_null_timeout_asks_for_a_value():
    assert only_problem(with_("defaults.timeout", None))[1] == "null is not allowed: Modal needs a timeout"


def test_gpu_allow_list_through_the_model():
    assert only_problem(with_("services.chat.gpu", "H100:16"))[0] == "services.chat.gpu"


def test_gpu_fallback_list_item_is_located():
    assert only_problem(with_("services.chat.gpu", ["H100:2", "X9:2"]))[0] == "services.chat.gpu[1]"


def test_web_method_only_for_fastapi_endpoint():
    assert "fastapi_endpoint only" in only_problem(with_("services.api.method", "POST"))[1]


def test_shorthands_produce_canonical_values():
    data = with_("services.chat.memory_snapshot", True)
    data = with_("functions.ingest.retries", 3, data)
    data = with_("functions.ingest.memory", "4GiB", data)
    manifest = validate_data(data)
    assert manifest.services["chat"].memory_snapshot.enabled is True
    assert manifest.functions["ingest"].retries.count == 3
    assert manifest.functions["ingest"].memory == 4096


def test_image_keys_left_out_stay_unset_for_the_planner_to_decide():
    data = with_("images.cuda", {"registry": "nvidia/cuda:12.8.0-devel-ubuntu22.04"})
    data = with_("images.plain", {}, data)
    manifest = validate_data(data)
    for key in ("cuda", "plain"):
        image = manifest.images[key]
        assert (image.python, image.clear_entrypoint, image.installer) == (None, None, None)


def test_models_are_frozen():
    manifest = validate_data(base())
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        manifest.app = "other"


def test_all_problems_are_reported_at_once():
    data = with_("services.chat.fast_boot", "yes")
    data = with_("functions.ingest.handler", "pipeline.ingest.run", data)
    data = with_("defaults.cloud", "azure", data)
    assert [p[0] for p in problems(data)] == ["defaults.cloud", "functions.ingest.handler", "services.chat.fast_boot"]


def test_empty_manifest_says_so():
    assert problems(None) == [("", "the manifest is empty", "start with `version: 1` and `app: NAME`")]


def test_a_mount_naming_a_list_is_a_located_type_error_not_a_crash():
    # Found by the overlay property test: the cross-manifest rules read raw data, so a volume
    # "name" may be any YAML value there.
    data = with_("functions.ingest.volumes", {"/data": []})
    data["defaults"]["volumes"] = {"/cache": ["not", "a", "name"]}
    assert [p[:2] for p in problems(data)] == [
        ('defaults.volumes["/cache"]', "expected text, got a list"),
        ('functions.ingest.volumes["/data"]', "expected text, got a list"),
    ]


def test_app_tags_follow_modal_tag_rules():
    assert validate_data(with_("tags", {"team": "ml", "cost-center": "r.d_1"})).tags == {
        "team": "ml",
        "cost-center": "r.d_1",
    }
    key, message, hint = only_problem(with_("tags", {"team": "machine learning"}))
    assert (key, message) == ("tags.team", "is not a valid Modal tag")
    assert "63 characters" in hint


def test_a_shorthand_out_of_range_is_located_at_the_value_written():
    """`retries: -1` is read as {count: -1}: the problem is the -1 at `retries`, not a `count` key."""
    key, message, _ = only_problem(with_("functions.ingest.retries", -1))
    assert (key, message) == ("functions.ingest.retries", "must be at least 0 (got -1)")
