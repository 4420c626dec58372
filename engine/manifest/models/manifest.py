"""The root of a manifest, and the rules that connect its parts: every reference names something
declared, and service/function keys stay distinct once they become Python identifiers.

The reference rules read the raw (merged) data rather than the validated model, so they report
even when another part of the manifest has a type error: the user sees every problem in one run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import Field

from engine.manifest.models.base import Finding, StrictModel, build_function_bodies
from engine.manifest.models.classes import AnyFunction
from engine.manifest.models.defaults import Defaults
from engine.manifest.models.images import Image
from engine.manifest.models.relations import check_relations
from engine.manifest.models.services import Service
from engine.manifest.models.shorthands import AppTag, ModalName, python_identifier
from engine.manifest.models.storage import Bucket, ModalDict, Queue, Secret, Volume
from engine.manifest.models.weights import Model, check_model_references
from engine.manifest.source import KeyPath

MANIFEST_VERSION = 1
LocalKey = ModalName  # keys of resource maps follow Modal's naming rule: they may become Modal names


class Manifest(StrictModel):
    """One Modal app: its images, storage, secrets, services and functions."""

    version: Annotated[Literal[1], Field(description="Manifest format version; always 1.")]
    app: Annotated[ModalName, Field(description="The Modal app name.")]
    description: Annotated[str | None, Field(description="Free text for humans.")] = None
    tags: Annotated[
        dict[AppTag, AppTag],
        Field(description="Modal app tags (team: ml); `modal billing report --tag-names` groups costs by them."),
    ] = {}
    defaults: Annotated[Defaults, Field(description="Values every service and function inherits.")] = Defaults()
    images: Annotated[dict[LocalKey, Image], Field(description="Image recipes by key.")] = {}
    volumes: Annotated[dict[LocalKey, Volume], Field(description="Modal Volumes by key.")] = {}
    secrets: Annotated[
        dict[LocalKey, Secret], Field(description="Modal Secrets by key (names only, never values).")
    ] = {}
    dicts: Annotated[dict[LocalKey, ModalDict], Field(description="Modal Dicts by key.")] = {}
    queues: Annotated[dict[LocalKey, Queue], Field(description="Modal Queues by key.")] = {}
    buckets: Annotated[dict[LocalKey, Bucket], Field(description="Cloud bucket mounts by key.")] = {}
    services: Annotated[dict[LocalKey, Service], Field(description="Long-running HTTP services by key.")] = {}
    functions: Annotated[
        dict[LocalKey, AnyFunction], Field(description="Functions by key: handlers, or classes with `kind: cls`.")
    ] = {}
    models: Annotated[
        dict[LocalKey, Model], Field(description="Pinned weights services and functions use, by key (models.md).")
    ] = {}


# ---------------------------------------------------------------------------------------------
# Rules across the manifest, over the raw data (tolerant of shapes the models reject)

_CONTAINERS = ("services", "functions")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _unknown(kind: str, name: str, declared: dict[str, Any], path: KeyPath) -> Finding:
    close = difflib.get_close_matches(name, list(declared), n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"declare it under `{kind}:`"
    if not declared:
        hint = f"declare it under `{kind}:`"
    return Finding(path, f"no {kind[:-1]} {name!r} is declared in `{kind}`", hint)


def _container_sections(data: dict[str, Any]) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
    """(path, mapping) of `defaults` and of every service and function."""
    yield ("defaults",), _mapping(data.get("defaults"))
    for section in _CONTAINERS:
        for key, body in _mapping(data.get(section)).items():
            yield (section, key), _mapping(body)


def check_references(data: dict[str, Any]) -> list[Finding]:
    """Every image, secret, volume and bucket a manifest names is declared in it."""
    findings: list[Finding] = []
    declared = {kind: _mapping(data.get(kind)) for kind in ("images", "secrets", "volumes", "buckets")}
    for path, body in _container_sections(data):
        image = body.get("image")
        if isinstance(image, str) and image not in declared["images"]:
            findings.append(_unknown("images", image, declared["images"], (*path, "image")))
        secrets = body.get("secrets")
        items = (
            [(path + ("secrets",), secrets)]
            if isinstance(secrets, str)
            else [
                (path + ("secrets", i), s) for i, s in enumerate(secrets if isinstance(secrets, list | tuple) else [])
            ]
        )
        for where, name in items:
            if isinstance(name, str) and name not in declared["secrets"]:
                findings.append(_unknown("secrets", name, declared["secrets"], where))
        for kind in ("volumes", "buckets"):
            for mount, name in _mapping(body.get(kind)).items():
                if isinstance(name, str) and name not in declared[kind]:
                    findings.append(_unknown(kind, name, declared[kind], (*path, kind, mount)))
        auth_secret = _mapping(body.get("auth")).get("api_key_secret")
        if isinstance(auth_secret, str) and auth_secret not in declared["secrets"]:
            findings.append(_unknown("secrets", auth_secret, declared["secrets"], (*path, "auth", "api_key_secret")))
    for where, body in build_function_bodies(data):
        # An image's run_function steps name secrets and volumes too (the build function sees them).
        names = _mapping(body).get("secrets")
        listed = (
            [((*where, "secrets"), names)]
            if isinstance(names, str)
            else [((*where, "secrets", i), n) for i, n in enumerate(names if isinstance(names, list) else [])]
        )
        for at, name in listed:
            if isinstance(name, str) and name not in declared["secrets"]:
                findings.append(_unknown("secrets", name, declared["secrets"], at))
        for mount, name in _mapping(_mapping(body).get("volumes")).items():
            if isinstance(name, str) and name not in declared["volumes"]:
                findings.append(_unknown("volumes", name, declared["volumes"], (*where, "volumes", mount)))
    for key, bucket in declared["buckets"].items():
        secret = _mapping(bucket).get("secret")
        if isinstance(secret, str) and secret not in declared["secrets"]:
            findings.append(_unknown("secrets", secret, declared["secrets"], ("buckets", key, "secret")))
    return findings


def check_inherited_mounts(data: dict[str, Any]) -> list[Finding]:
    """A volume inherited from `defaults` and mounted again by the object at another path would be
    mounted twice in one container, which Modal refuses."""
    findings = []
    # Raw data: names of any type may appear here (the models report them); only text can match.
    defaults_volumes = _mapping(_mapping(data.get("defaults")).get("volumes"))
    inherited = {name: path for path, name in defaults_volumes.items() if isinstance(name, str)}
    for path, body in _container_sections(data):
        if path == ("defaults",):
            continue
        own = _mapping(body.get("volumes"))
        for mount, name in own.items():
            other = inherited.get(name) if isinstance(name, str) else None
            if other is not None and other != mount and other not in own:
                findings.append(
                    Finding(
                        (*path, "volumes", mount),
                        f"volume {name!r} is also mounted at {other} through defaults.volumes",
                        f"mount it at {other} only, or override that path here",
                    )
                )
    return findings


def check_identifiers(data: dict[str, Any]) -> list[Finding]:
    """Service and function keys share one namespace of Python identifiers in the entry module."""
    findings = []
    seen: dict[str, tuple[str, str]] = {}
    for section in _CONTAINERS:
        for key in _mapping(data.get(section)):
            if not isinstance(key, str):
                continue
            ident = python_identifier(key)
            if ident in seen:
                other_section, other = seen[ident]
                findings.append(
                    Finding(
                        (section, key),
                        f"{section[:-1]} {key!r} and {other_section[:-1]} {other!r} both become the Python name {ident!r}",
                        "rename one of them",
                        on_key=True,
                    )
                )
            else:
                seen[ident] = (section, key)
    return findings


def check_manifest_rules(data: dict[str, Any]) -> list[Finding]:
    """All cross-manifest rules, in a fixed order."""
    if not isinstance(data, dict):
        return []
    return [
        *check_references(data),
        *check_inherited_mounts(data),
        *check_identifiers(data),
        *check_relations(data),
        *check_model_references(data),
    ]
