"""`explain_key`: a value of the merged manifest or of the Blueprint, and where it came from.

A dotted key of the merged manifest (`services.chat.gpu`) answers with its value and the
`file:line:col` that set it (overlays included). A key of the Blueprint
(`servers.chat.container.scaling.scaledown_window`, objects addressed by their manifest key)
answers with the planned value and its origin: the manifest key it was planned from, a
`defaults` entry, an engine (launch command, default image, cache volumes), or else the
planner's defaults. The origin is found by looking for the corresponding key in the merged
manifest — a heuristic that says "not set in any manifest file" rather than guess a file.

List elements are addressed as `steps.0` or `steps[0]`; keys that contain dots (mount paths)
are matched whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.blueprint.codec import to_data
from engine.blueprint.model import Blueprint

_COLLECTIONS = ("servers", "functions", "images", "volumes", "secrets", "dicts", "queues", "buckets")
# Blueprint object field -> the manifest key it is planned from, where the names differ.
_MANIFEST_NAMES = {
    "target_concurrency": ("concurrency", "target"),
    "max_concurrency": ("concurrency", "max"),
    "requires_proxy_auth": ("auth", "proxy"),
    "served_model_name": ("model", "served_name"),
    "model": ("model", "id"),
    "enable_memory_snapshot": ("memory_snapshot",),
    "gpu_snapshot": ("memory_snapshot", "gpu"),
    "mounts": ("volumes",),
    "max_retries": ("retries",),
}
# Container settings a manifest's `defaults` can supply.
_DEFAULTABLE = {"image", "region", "cloud", "timeout", "secrets", "env", "volumes", "scaledown_window"}
# Server fields an engine decides from the manifest's model and engine_args.
_ENGINE_FIELDS = {"command", "health_path", "snapshot", "secret_args"}


@dataclass(frozen=True)
class Explanation:
    key: str
    found_in: str  # "manifest" | "blueprint"
    value: Any  # JSON data
    origin: str  # a sentence: where the value came from
    location: str | None = None  # file:line:col that set it, when a file did
    planned: Any = None  # the Blueprint's value for a manifest key, when one corresponds
    has_planned: bool = False


class UnknownKey(LookupError):
    """The key names nothing in the merged manifest or the Blueprint."""


def split_key(key: str) -> list[str]:
    """`a.b[0].c` -> ["a", "b", "0", "c"] (a piece may hold dots: matching re-joins them)."""
    return [piece for piece in re.sub(r"\[(\d+)\]", r".\1", key).split(".") if piece != ""]


def lookup(data: Any, pieces: list[str]) -> tuple[Any, tuple] | None:
    """Walk `data` along `pieces`; mapping keys may contain dots, so the longest key that
    matches wins. Returns (value, path with str keys and int list indices), or None."""
    if not pieces:
        return data, ()
    if isinstance(data, dict):
        for end in range(len(pieces), 0, -1):
            candidate = ".".join(pieces[:end])
            if candidate in data:
                found = lookup(data[candidate], pieces[end:])
                if found is not None:
                    return found[0], (candidate, *found[1])
        return None
    if isinstance(data, list) and pieces[0].isdigit() and int(pieces[0]) < len(data):
        found = lookup(data[int(pieces[0])], pieces[1:])
        if found is not None:
            return found[0], (int(pieces[0]), *found[1])
    return None


def blueprint_view(blueprint: Blueprint) -> dict[str, Any]:
    """The Blueprint's JSON data with each collection keyed by object key instead of a list."""
    data = to_data(blueprint)
    for name in _COLLECTIONS:
        data[name] = {obj["key"]: obj for obj in data[name]}
    return data


def explain_key(key: str, merged: Any, blueprint: Blueprint) -> Explanation:
    """`merged` is the loader's Merged (`data`, `spans`: path tuple -> Span with `.value` Location)."""
    pieces = split_key(key)
    if not pieces:
        raise UnknownKey(key)
    view = blueprint_view(blueprint)
    in_manifest = lookup(merged.data, pieces)
    if in_manifest is not None:
        value, path = in_manifest
        planned = _planned_value(view, path)
        return Explanation(
            key=_dotted(path),
            found_in="manifest",
            value=value,
            origin="set in a manifest file",
            location=_location(merged, path),
            planned=planned[0] if planned else None,
            has_planned=planned is not None,
        )
    in_blueprint = lookup(view, pieces)
    if in_blueprint is None:
        raise UnknownKey(key)
    value, path = in_blueprint
    origin, location = _blueprint_origin(path, merged, view)
    return Explanation(key=_dotted(path), found_in="blueprint", value=value, origin=origin, location=location)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _location(merged: Any, path: tuple) -> str | None:
    span = merged.spans.get(tuple(path))
    if span is None or span.value is None:
        return None
    return str(span.value)


def _manifest_path(path: tuple) -> tuple | None:
    """The manifest key a Blueprint path is planned from: servers.K.container.X -> services.K.X."""
    if len(path) < 2 or path[0] not in _COLLECTIONS:
        return None
    collection, key, *rest = path
    if collection == "servers":
        collection = "services"
    if rest and rest[0] == "container":
        rest = rest[1:]
    if rest and rest[0] in _MANIFEST_NAMES:
        rest = [*_MANIFEST_NAMES[rest[0]], *rest[1:]]
    return (collection, key, *rest)


def _scalar_prefix(data: Any, manifest_path: tuple) -> tuple | None:
    """The longest proper prefix of `manifest_path` (below collection.key) set to a scalar."""
    for end in range(len(manifest_path) - 1, 2, -1):
        found = lookup(data, [str(p) for p in manifest_path[:end]])
        if found is not None:
            return None if isinstance(found[0], (dict, list)) else found[1]
    return None


def _planned_value(view: dict[str, Any], manifest_path: tuple) -> tuple[Any] | None:
    """The Blueprint value planned from a manifest key, when the correspondence is simple."""
    if len(manifest_path) < 3:
        return None
    collection, key, *rest = manifest_path
    blueprint_collection = "servers" if collection == "services" else collection
    obj = view.get(blueprint_collection, {}).get(key)
    if obj is None:
        return None
    reverse = {v: k for k, v in _MANIFEST_NAMES.items()}
    for length in (2, 1):
        head = tuple(rest[:length])
        if len(head) == length and head in reverse:
            rest = [reverse[head], *rest[length:]]
            break
    for base in (obj, obj.get("container", {})):
        found = lookup(base, [str(p) for p in rest])
        if found is not None and rest:
            return (found[0],)
    return None


def _blueprint_origin(path: tuple, merged: Any, view: dict[str, Any]) -> tuple[str, str | None]:
    manifest_path = _manifest_path(path)
    if manifest_path is not None:
        found = lookup(merged.data, [str(p) for p in manifest_path])
        if found is not None:
            where = _location(merged, found[1])
            return f"planned from the manifest key {_dotted(found[1])}", where
        # A scalar the planner widened (`gpu: A100` -> ["A100"]): an element of the planned
        # value comes from that scalar, not from the planner.
        scalar = _scalar_prefix(merged.data, manifest_path)
        if scalar is not None:
            return f"planned from the manifest key {_dotted(scalar)}", _location(merged, scalar)
        field = path[-1] if isinstance(path[-1], str) else None
        on_container = len(path) > 3 and path[2] == "container"
        # A function's timeout is its own field, not a container setting (servers have none).
        if (on_container or path[2:] == ("timeout",)) and field in _DEFAULTABLE:
            default = lookup(merged.data, ["defaults", field])
            if default is not None:
                return f"inherited from defaults.{field}", _location(merged, default[1])
    collection = path[0]
    if collection == "servers" and len(path) > 2:
        server = view["servers"][path[1]]
        engine = server["engine"]
        if path[2] in _ENGINE_FIELDS or path[2:] == ("container", "image"):
            return f"decided by the {engine} engine (not set in any manifest file)", None
        return (
            f"not set in any manifest file: decided by the planner for this {engine} server "
            "(the engine's settings or the planner's defaults)",
            None,
        )
    if collection == "images" and len(path) > 1 and path[1] not in (merged.data.get("images") or {}):
        engines = sorted({s["engine"] for s in view["servers"].values() if s["container"]["image"] == path[1]})
        if engines:
            return f"decided by the {', '.join(engines)} engine's default image recipe", None
    if collection == "volumes" and len(path) > 1 and path[1] not in (merged.data.get("volumes") or {}):
        if view["servers"]:
            return "added by the planner: a cache volume an engine mounts (not in any manifest file)", None
    return "decided by the planner default (not set in any manifest file)", None
