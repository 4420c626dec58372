"""The top-level `models:` section: weights a service or function uses, each pinned, cached in a
volume, and referenced by key (`models: [whisper]` on a function, `model: whisper` on an llm
service), so that a LoRA adapter or a reranker loaded in a handler is pinned and checked like an
llm service's own model.

The rules of a hub model are the llm service model's (`ModelSource` in llm.py): a repo id pinned
to a full commit, because a branch can change under a deployed app. The reference rules read the
raw data (as manifest.py's do), so a typo is reported even when another part fails to validate.
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any

from pydantic import Field, model_validator

from engine.manifest.models.base import Finding, StrictModel, TupleOf, build_function_bodies, container_bodies, fail
from engine.manifest.models.llm import check_hub_pin
from engine.manifest.source import KeyPath


class Model(StrictModel):
    """Weights by key: a Hugging Face repo pinned to a commit, or a folder in a volume. A user's
    container finds them through MDEPLOY_MODEL_<KEY> (a fixed name: keys are never variables,
    so the name of the variable is never a value from one). A hub model's `volume` may be left
    out when every user reads it from an image that holds it; the planner reports a user that
    would read it from a volume (planner/models.py), as only it knows each user's image."""

    id: Annotated[str | None, Field(description='Hugging Face repo id, e.g. "openai/whisper-large-v3".')] = None
    revision: Annotated[
        str | None,
        Field(description="The repo commit (40 hex characters). Required with `id`: a branch can change under an app."),
    ] = None
    path: Annotated[
        str | None,
        Field(description="Weights already in `volume`: a folder relative to the volume's root.", min_length=1),
    ] = None
    files: Annotated[
        TupleOf[Annotated[str, Field(min_length=1)]],
        Field(
            description='Only the repo files matching these patterns, e.g. ["*.safetensors", "*.json"]; default: all.'
        ),
    ] = ()
    secret: Annotated[
        str | None, Field(description="Key of `secrets` whose token can read the repo (gated or private: HF_TOKEN).")
    ] = None
    volume: Annotated[
        str | None,
        Field(
            description="Key of `volumes` that caches the weights (or holds `path`). A hub model every user "
            "reads from an image that holds it (`- models:` build step) needs none."
        ),
    ] = None

    @model_validator(mode="after")
    def _check(self) -> Model:
        if (self.id is None) == (self.path is None):
            raise fail(
                "set exactly one of `id` (a Hugging Face repo) or `path` (a folder in `volume`)",
                hint="e.g. id: openai/whisper-large-v3",
            )
        if self.id is not None:
            check_hub_pin(self.id, self.revision)
            return self
        if self.volume is None:
            raise fail(
                "a `path` model is a folder in a volume: name the volume",
                hint="e.g. volume: weights (a key of `volumes`)",
                at=("volume",),
            )
        if self.revision is not None:
            raise fail(
                "revision applies to hub models only", hint="remove it, or use `id` instead of `path`", at=("revision",)
            )
        if self.files:
            raise fail(
                "files applies to hub models only (it selects what is downloaded)", hint="remove it", at=("files",)
            )
        parts = re.split(r"[/\\]", self.path or "")
        if ".." in parts or (self.path or "").startswith("/"):
            raise fail(
                "a model path is a folder relative to the volume's root, without '..'",
                hint="e.g. path: llama-3.1-8b (the volume is mounted where the plan says)",
                at=("path",),
            )
        return self


# ---------------------------------------------------------------------------------------------
# References, over the raw data


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unknown_model(name: str, declared: dict[str, Any], path: KeyPath) -> Finding:
    close = difflib.get_close_matches(name, [k for k in declared if isinstance(k, str)], n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else "declare it under `models:`"
    return Finding(path, f"no model {name!r} is declared in `models`", hint)


def model_references(data: dict[str, Any]) -> list[tuple[KeyPath, str]]:
    """(manifest path, model key) of every reference: `models: [...]` of functions and web
    services and of images' `run_function` build steps, an llm service's `model:` when it is a key
    (text) rather than a mapping, and its `adapters:`."""
    found: list[tuple[KeyPath, str]] = []
    for path, body in container_bodies(data):
        body = _mapping(body)
        if path[0] == "services" and body.get("kind") == "llm" and isinstance(body.get("model"), str):
            found.append(((*path, "model"), body["model"]))
        listed = body.get("models")
        for index, name in enumerate(listed if isinstance(listed, list | tuple) else []):
            if isinstance(name, str):
                found.append(((*path, "models", index), name))
        if path[0] == "services" and body.get("kind") == "llm":
            # `adapters:` (LoRA, adapters.py): a list of keys, or {served name: key}.
            adapters = body.get("adapters")
            items = adapters.items() if isinstance(adapters, dict) else enumerate(adapters or ())
            for at, name in items if isinstance(adapters, dict | list | tuple) else ():
                if isinstance(name, str):
                    found.append(((*path, "adapters", at), name))
    for path, body in build_function_bodies(data):
        found += _listed(path, _mapping(body).get("models"))
    for path, listed in baked_model_lists(data):
        found += _listed(path[:-1], listed)
    return found


def _listed(path: KeyPath, listed: Any) -> list[tuple[KeyPath, str]]:
    """(path + ("models", index), key) of each text item of a `models` list."""
    items = enumerate(listed if isinstance(listed, list | tuple) else [listed] if isinstance(listed, str) else [])
    return [((*path, "models", index), name) for index, name in items if isinstance(name, str)]


def baked_model_lists(data: dict[str, Any]) -> list[tuple[KeyPath, Any]]:
    """(path, value) of every image's `- models: [...]` step in raw manifest data."""
    found: list[tuple[KeyPath, Any]] = []
    images = _mapping(data.get("images"))
    for key, image in images.items():
        steps = _mapping(image).get("steps")
        for index, item in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(item, dict) and "models" in item:
                found.append((("images", key, "steps", index, "models"), item["models"]))
    return found


def check_model_references(data: dict[str, Any]) -> list[Finding]:
    """Every referenced model is declared; every model's secret and volume are; a model nothing
    uses is a warning (it would be pinned and prefetched for nothing)."""
    declared = _mapping(data.get("models"))
    findings: list[Finding] = []
    used: set[str] = set()
    for path, name in model_references(data):
        used.add(name)
        if name not in declared:
            findings.append(_unknown_model(name, declared, path))
    for path, listed in baked_model_lists(data):
        for at, name in _listed(path[:-1], listed):
            if _mapping(declared.get(name)).get("path") is not None:
                findings.append(
                    Finding(
                        at,
                        f"model {name!r} is a folder in a volume: only a Hugging Face model (`id`) is fetched into an image",
                        "read it from its volume: list it in a run_function step's or a function's `models`",
                    )
                )
    for kind in ("secret", "volume"):
        collection = _mapping(data.get(f"{kind}s"))
        for key, body in declared.items():
            named = _mapping(body).get(kind)
            if isinstance(named, str) and named not in collection:
                close = difflib.get_close_matches(named, [k for k in collection if isinstance(k, str)], n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"declare it under `{kind}s:`"
                findings.append(Finding(("models", key, kind), f"no {kind} {named!r} is declared in `{kind}s`", hint))
    for key in declared:
        if isinstance(key, str) and key not in used:
            findings.append(
                Finding(
                    ("models", key),
                    f"model {key!r} is not used by any service or function",
                    "reference it (`models: [" + key + "]` on a function) or remove it",
                    on_key=True,
                    severity="warning",
                )
            )
    return findings
