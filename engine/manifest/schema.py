"""The manifest's JSON Schema, generated from the models (their field descriptions are the
documentation), for editors (`# yaml-language-server: $schema=...`, TOML `#:schema`) and CI.

Rules that JSON Schema cannot say are checked by the models only; an editor using the schema
accepts these manifests, `mdeploy validate` refuses them:
- references between parts (an image, secret, volume or bucket key must be declared);
- service and function keys distinct as Python identifiers;
- GPU types and counts (the schema checks the `TYPE[:N]` shape, not the allow-list), one count
  per fallback list, tensor_parallel_size equal to the GPU count;
- duration and memory strings within bounds (`"2h"` for scaledown_window), cron fields and
  time zones, canonical mount paths (no `..`, not /root or /tmp), min <= max pairs;
- field combinations: model `id` xor `path`, a pinned revision with `id`, batching vs concurrency
  vs web, `method`/`docs` only for fastapi_endpoint, a key in `extra_args` that has its own field;
- values that look like secrets; an explicit `timeout: null` (the schema allows null, meaning
  "not set", for every optional key);
- decimal memory units ("16GB") are refused by the models with a hint; the schema's pattern
  refuses them too, without one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_ID = "https://github.com/mdeploy/mdeploy/schemas/manifest.schema.json"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_RELATIVE_PATH = Path("schemas") / "manifest.schema.json"
OVERLAY_SCHEMA_ID = "https://github.com/mdeploy/mdeploy/schemas/manifest-overlay.schema.json"
OVERLAY_SCHEMA_RELATIVE_PATH = Path("schemas") / "manifest-overlay.schema.json"


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of a manifest, as `mdeploy schema` prints it."""
    from engine.manifest.models.manifest import Manifest

    generated = Manifest.model_json_schema(mode="validation")
    head = {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "mdeploy manifest",
        "description": (
            "A Modal app declared as data: images, storage, secrets (by name), services and functions. "
            "Generated from mdeploy's models by `mdeploy schema`; `mdeploy validate` also checks rules "
            "this schema cannot express (references, GPU allow-list, cron, mount paths, secret-looking values)."
        ),
    }
    generated.pop("title", None)
    generated.pop("description", None)
    return {**head, **_tidy(generated)}


def _tidy(node: Any) -> Any:
    """Two changes to pydantic's output: drop the titles it derives from field names (noise in an
    editor's tooltip), and turn `patternProperties` of a keyed map into `propertyNames` +
    `additionalProperties`, so that a key breaking the pattern is refused instead of unchecked."""
    if isinstance(node, list):
        return [_tidy(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _tidy(schema) for name, schema in value.items()}
            continue
        out[key] = _tidy(value)
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in out:
        ((pattern, schema),) = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {"pattern": pattern}
        out["additionalProperties"] = schema
    return out


def overlay_json_schema() -> dict[str, Any]:
    """The schema for an overlay file (`chat.prod.yaml`), which says only what differs from its
    base: the manifest schema with nothing required and `null` (which deletes a key) allowed for
    every key. Alternatives become `anyOf`, since a partial service may fit several kinds. The
    merged result is checked against the full schema and the models, as for any manifest."""
    schema: dict[str, Any] = _loosen(manifest_json_schema())
    schema["$id"] = OVERLAY_SCHEMA_ID
    schema["title"] = "mdeploy manifest overlay"
    schema["description"] = (
        "An environment overlay (NAME.ENV.yaml beside NAME.yaml): mappings merge into the base, scalars and "
        "lists replace, null deletes. Nothing is required here; `mdeploy validate --all-envs` checks the merge."
    )
    return schema


def _loosen(node: Any) -> Any:
    if isinstance(node, list):
        return [_loosen(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ("required", "discriminator"):
            continue
        if key == "oneOf":
            out["anyOf"] = _loosen(value)
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: _nullable(_loosen(schema)) for name, schema in value.items()}
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = _nullable(_loosen(value))
        else:
            out[key] = _loosen(value)
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def render_schema(*, overlay: bool = False) -> str:
    """The schema as the checked-in file holds it: indented JSON, trailing newline."""
    schema = overlay_json_schema() if overlay else manifest_json_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def default_schema_path(*, overlay: bool = False) -> Path:
    """Where the checked-in schema lives: `schemas/manifest.schema.json` (or
    `manifest-overlay.schema.json`) in the checkout that holds this package (editable installs,
    CI), else in the current directory."""
    relative = OVERLAY_SCHEMA_RELATIVE_PATH if overlay else SCHEMA_RELATIVE_PATH
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "engine").is_dir() and (checkout / "schemas").is_dir():
        return checkout / relative
    return Path.cwd() / relative
