"""The checked-in JSON Schema is current, and it agrees with the models: it accepts every valid
manifest and rejects bad ones that the models reject.

Rules the schema cannot express are listed in `engine/manifest/schema.py`'s docstring (references,
GPU allow-list, cron, mount path form, field combinations, secret-looking values); for those the
models refuse what the schema lets through, which `test_rules_beyond_json_schema_only_models_refuse`
pins so the list stays true.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from engine.manifest.errors import ManifestError
from engine.manifest.schema import (
    OVERLAY_SCHEMA_RELATIVE_PATH,
    SCHEMA_RELATIVE_PATH,
    default_schema_path,
    manifest_json_schema,
    overlay_json_schema,
    render_schema,
)
from engine.manifest.validate import validate_data

DATA = Path(__file__).parent / "data"
VALID = sorted((DATA / "valid").glob("*.yaml"))


def _read(path: Path):
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator():
    schema = manifest_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _models_accept(data) -> bool:
    try:
        validate_data(data)
        return True
    except ManifestError:
        return False


def test_checked_in_schema_matches_the_models(repo_root):
    checked_in = (repo_root / SCHEMA_RELATIVE_PATH).read_text(encoding="utf-8")
    assert checked_in == render_schema(), "schema drifted: run `mdeploy schema -o schemas/manifest.schema.json`"


def test_default_schema_path_is_in_this_checkout(repo_root):
    assert default_schema_path() == repo_root / SCHEMA_RELATIVE_PATH


def test_schema_carries_dialect_id_title_and_descriptions():
    schema = manifest_json_schema()
    assert schema["$schema"].endswith("2020-12/schema") and schema["$id"] and schema["title"]
    assert schema["$defs"]["Function"]["properties"]["handler"]["description"]


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_schema_and_models_accept_valid_manifests(path, validator):
    data = _read(path)
    assert _models_accept(data)
    assert list(validator.iter_errors(data)) == []


def _everything():
    return _read(DATA / "valid" / "everything.yaml")


def _set(path: str, value):
    data = _everything()
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()

BAD = {
    "unknown top-level key": ("servics", {}),
    "unknown service key": ("services.chat.fast_bot", True),
    "legacy key": ("functions.ingest.keep_warm", 1),
    "text for a bool": ("services.chat.fast_boot", "no"),
    "number for text": ("images.base.python", 3.1),
    "text for an int": ("services.chat.port", "8000"),
    "bad enum": ("defaults.cloud", "azure"),
    "bad kind": ("services.api.kind", "webapp"),
    "bad engine": ("services.chat.engine", "vlm"),
    "missing model": ("services.chat.model", _DELETE),
    "missing handler": ("functions.ingest.handler", _DELETE),
    "missing app": ("app", _DELETE),
    "version 2": ("version", 2),
    "bad app name": ("app", "my app"),
    "decimal memory unit": ("services.chat.memory", "32GB"),
    "bad duration": ("defaults.timeout", "ten minutes"),
    "scaledown below 2": ("services.chat.scaling.scaledown_window", 1),
    "negative min_containers": ("services.chat.scaling.min_containers", -1),
    "gpu utilisation above 1": ("services.chat.engine_args.gpu_memory_utilization", 1.5),
    "import path without colon": ("functions.ingest.handler", "pipeline.ingest.run"),
    "relative mount path": ("functions.ingest.volumes", {"data": "outputs"}),
    "schedule with neither": ("functions.ingest.schedule", {"timezone": "UTC"}),
    "batch size above 1000": ("functions.embed.batching.max_batch_size", 1001),
    "retries above 10": ("functions.embed.retries", 11),
    "env value a number": ("defaults.env", {"WORKERS": 4}),
    "bad resource key": ("volumes.bad name", {}),
    "list for a mapping": ("secrets.hf", ["HF_TOKEN"]),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=str)
def test_schema_rejects_what_models_reject(case, validator):
    data = _set(*BAD[case])
    assert not _models_accept(data), "the models should refuse this"
    assert list(validator.iter_errors(data)), "the schema should refuse this too"


BEYOND_SCHEMA = {
    "undeclared secret": ("functions.ingest.secrets", ["nope"]),
    "unknown GPU type": ("services.qwen.gpu", "H110"),
    "tensor parallel != gpu count": ("services.chat.engine_args.tensor_parallel_size", 4),
    "cron out of range": ("functions.ingest.schedule", {"cron": "0 25 * * *"}),
    "unknown time zone": ("functions.ingest.schedule", {"cron": "0 3 * * *", "timezone": "Mars/Base"}),
    "mount path with ..": ("functions.ingest.volumes", {"/data/../etc": "outputs"}),
    "scaledown window as a long string": ("services.chat.scaling.scaledown_window", "2h"),
    "min above max": ("services.chat.scaling", {"min_containers": 5, "max_containers": 1}),
    "unpinned revision": ("services.trt.model.revision", "main"),
    "batching with concurrency": ("functions.embed.concurrency", {"max_inputs": 2}),
    "secret value in env": ("defaults.env", {"TOKEN": "hf_" + "x1Y2z3" * 6}),
}


@pytest.mark.parametrize("case", sorted(BEYOND_SCHEMA), ids=str)
def test_rules_beyond_json_schema_only_models_refuse(case, validator):
    data = _set(*BEYOND_SCHEMA[case])
    assert not _models_accept(data)
    assert list(validator.iter_errors(data)) == [], "the schema learnt this rule: move the case to BAD and the docs"


def test_every_shipped_manifest_environment_passes_the_schema(repo_root, validator):
    """Shipped manifests merged with each overlay, read through the real loader."""
    from engine.manifest.load import discover_manifests, environments_of, load_merged

    checked = 0
    for path in discover_manifests([repo_root / "manifests"]):
        for env in [None, *environments_of(path)]:
            merged = load_merged(path, env, {})
            assert list(validator.iter_errors(copy.deepcopy(merged.data))) == [], (path, env)
            checked += 1
    assert checked > 0


def test_checked_in_overlay_schema_matches_the_models(repo_root):
    checked_in = (repo_root / OVERLAY_SCHEMA_RELATIVE_PATH).read_text(encoding="utf-8")
    assert checked_in == render_schema(overlay=True), (
        "run `mdeploy schema --overlay -o schemas/manifest-overlay.schema.json`"
    )


def _shipped_files(repo_root):
    from engine.manifest.load import discover_manifests, environments_of, overlay_path

    for base in discover_manifests([repo_root / "manifests"]):
        yield base, False
        for env in environments_of(base):
            yield overlay_path(base, env), True


def test_every_shipped_file_names_its_schema_on_the_first_line(repo_root):
    for path, is_overlay in _shipped_files(repo_root):
        schema = "../schemas/manifest-overlay.schema.json" if is_overlay else "../schemas/manifest.schema.json"
        first = path.read_text(encoding="utf-8").splitlines()[0]
        expected = f"#:schema {schema}" if path.suffix == ".toml" else f"# yaml-language-server: $schema={schema}"
        assert first == expected, path


def test_every_shipped_overlay_passes_the_overlay_schema_but_not_the_full_one(repo_root, validator):
    import tomllib

    overlay_validator = jsonschema.Draft202012Validator(overlay_json_schema())
    overlays = [path for path, is_overlay in _shipped_files(repo_root) if is_overlay]
    assert overlays
    for path in overlays:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else YAML(typ="safe", pure=True).load(text)
        assert list(overlay_validator.iter_errors(data)) == [], path
        assert list(validator.iter_errors(data)), f"{path} would need no overlay schema"


def test_overlay_schema_still_refuses_unknown_keys_and_wrong_types():
    overlay_validator = jsonschema.Draft202012Validator(overlay_json_schema())
    assert list(overlay_validator.iter_errors({"services": {"chat": {"scaling": {"min_containrs": 1}}}}))
    assert list(overlay_validator.iter_errors({"services": {"chat": {"port": "eighty"}}}))
    assert list(overlay_validator.iter_errors({"services": {"chat": {"gpu": None}}})) == []
