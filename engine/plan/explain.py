"""`explain_key`: a value of the merged manifest or of the Blueprint, and where it came from.

A dotted key of the merged manifest (`services.chat.gpu`) answers with its value, the
`file:line:col` that set it (overlays included) and what the planner made of it. A key of the
Blueprint (`servers.chat.container.scaling.scaledown_window`, objects addressed by their manifest
key) answers with the planned value and its origin as the planner recorded it when it decided the
value (engine/blueprint/origins.py): a manifest key, a `defaults` entry, the schema's default, an
engine and the manifest keys it read, or a planner default. This module only reads that record.

Values that came from a `${VAR}` are shown as that reference, never as the value.

List elements are addressed as `steps.0` or `steps[0]`; keys that contain dots (mount paths)
are matched whole.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from engine.blueprint.codec import to_data
from engine.blueprint.model import Blueprint
from engine.blueprint.origins import DEFAULTS, ENGINE, MANIFEST, PLANNER, SCHEMA, Origin, Origins, Source

COLLECTIONS = ("servers", "functions", "images", "volumes", "secrets", "dicts", "queues", "buckets", "models")
_DEFAULTS_MODULE = "engine/planner/defaults.py"


class MergedManifest(Protocol):
    """What explain reads of the loader's Merged (engine/manifest/overlay.py), which this
    renderer does not import: the merged values, where each was set, and the `${...}` text of
    those that came from a variable."""

    @property
    def data(self) -> Mapping[str, Any]: ...

    @property
    def spans(self) -> Mapping[tuple[str | int, ...], Any]: ...

    @property
    def interpolated(self) -> Mapping[tuple[str | int, ...], str]: ...


@dataclass(frozen=True)
class Explanation:
    key: str
    found_in: str  # "manifest" | "blueprint"
    value: Any  # JSON data, values from variables shown as their references
    origin: str  # a sentence: where the value came from
    location: str | None = None  # file:line:col that set it, when one file did
    planned: Any = None  # the Blueprint's value for a manifest key, when one corresponds
    has_planned: bool = False
    planned_at: tuple[str, ...] = ()  # the Blueprint keys planned from a manifest key


class UnknownKey(LookupError):
    """The key names nothing in the merged manifest or the Blueprint; `close` is the nearest key
    that does (one piece spelled differently), if any."""

    def __init__(self, key: str, close: str | None = None):
        super().__init__(key)
        self.close = close


def closest_key(data: Any, pieces: list[str], real_names: Collection[str] = ()) -> str | None:
    """The dotted key that `pieces` most likely meant in `data`: walked as far as it matches, then
    the first piece that does not replaced by the closest key there (difflib), if the result names
    something. None when nothing is close, or when that piece is one of `real_names` (a key the
    schema has, left unset here: `min_containers` is not a slip for the `max_containers` beside it)."""
    import difflib

    node, path = data, list[str]()
    for index, piece in enumerate(pieces):
        if isinstance(node, list) and piece.isdigit() and int(piece) < len(node):
            node, path = node[int(piece)], [*path, piece]
            continue
        if not isinstance(node, dict):
            return None
        if piece in node:
            node, path = node[piece], [*path, piece]
            continue
        if piece in real_names:
            return None
        names = [name for name in node if isinstance(name, str)]
        for close in difflib.get_close_matches(piece, names, n=3, cutoff=0.6):
            candidate = [*path, close, *pieces[index + 1 :]]
            found = lookup(data, candidate)
            if found is not None:
                return dotted(found[1])
        return None
    return None


def split_key(key: str) -> list[str]:
    """`a.b[0].c` -> ["a", "b", "0", "c"] (a piece may hold dots: matching re-joins them)."""
    return [piece for piece in re.sub(r"\[(\d+)\]", r".\1", key).split(".") if piece != ""]


def lookup(data: Any, pieces: list[str]) -> tuple[Any, tuple[str | int, ...]] | None:
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
    data: dict[str, Any] = to_data(blueprint)  # a Blueprint's data is a JSON object
    for name in COLLECTIONS:
        data[name] = {obj["key"]: obj for obj in data[name]}
    return data


def explain_key(
    key: str, merged: MergedManifest, blueprint: Blueprint, origins: Origins, real_names: Collection[str] = ()
) -> Explanation:
    """`merged` is the loader's Merged (`data`, `spans`, `interpolated`); `origins` the planner's
    record for `blueprint`; `real_names`, the schema's key names (see `closest_key`)."""
    pieces = split_key(key)
    if not pieces:
        raise UnknownKey(key)
    view = blueprint_view(blueprint)
    in_manifest = lookup(merged.data, pieces)
    if in_manifest is not None:
        value, path = in_manifest
        planned_at = _planned_from(origins, path)
        planned_value = lookup(view, [str(x) for x in planned_at[0]]) if len(planned_at) == 1 else None
        return Explanation(
            key=dotted(path),
            found_in="manifest",
            value=manifest_shown(merged, path, value),
            origin="set in a manifest file",
            location=_location(merged, path),
            planned=origins.shown(planned_at[0], planned_value[0]) if planned_value else None,
            has_planned=planned_value is not None,
            planned_at=tuple(dotted(p) for p in planned_at),
        )
    in_blueprint = lookup(view, pieces)
    if in_blueprint is None:
        close = closest_key(merged.data, pieces, real_names) or closest_key(view, pieces, real_names)
        raise UnknownKey(key, close)
    value, path = in_blueprint
    found = origins.find(path)
    origin, location = describe(found[1]) if found is not None else ("not recorded by the planner", None)
    return Explanation(
        key=dotted(path),
        found_in="blueprint",
        value=origins.shown(path, value),
        origin=origin,
        location=location,
    )


def dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def manifest_shown(merged: MergedManifest, path: tuple[str | int, ...], value: Any) -> Any:
    """A merged-manifest value with every part that came from a variable shown as the text the
    file wrote (`${GPU:-A100}`)."""
    interpolated = merged.interpolated
    if tuple(path) in interpolated:
        return interpolated[tuple(path)]
    if isinstance(value, dict):
        return {k: manifest_shown(merged, (*path, k), v) for k, v in value.items()}
    if isinstance(value, list):
        return [manifest_shown(merged, (*path, i), v) for i, v in enumerate(value)]
    return value


def _location(merged: MergedManifest, path: tuple[str | int, ...]) -> str | None:
    span = merged.spans.get(tuple(path))
    if span is None or span.value is None:
        return None
    return str(span.value)


def _planned_from(origins: Origins, manifest_path: tuple[str | int, ...]) -> list[tuple[str | int, ...]]:
    """The outermost Blueprint paths whose value is the manifest value at `manifest_path` itself."""
    found = [
        path
        for path, origin in origins.items()
        if origin.kind in (MANIFEST, DEFAULTS)
        and origin.direct
        and len(origin.sources) == 1
        and origin.sources[0].key == tuple(manifest_path)
    ]
    found.sort(key=lambda p: (len(p), [str(x) for x in p]))
    outermost = [p for p in found if not any(p[: len(q)] == q and p != q for q in found)]
    return outermost


def _keys(sources: tuple[Source, ...]) -> str:
    return ", ".join(dotted(s.key) + (f" ({s.location})" if s.location else "") for s in sources)


def describe(origin: Origin) -> tuple[str, str | None]:
    """(sentence, location) for one recorded origin."""
    sources = origin.sources
    note = f" ({origin.note})" if origin.note else ""
    if origin.kind in (MANIFEST, DEFAULTS) and len(sources) == 1:
        verb = "inherited from" if origin.kind == DEFAULTS else "planned from the manifest key"
        return f"{verb} {dotted(sources[0].key)}{note}", sources[0].location
    if origin.kind in (MANIFEST, DEFAULTS):
        return f"planned from the manifest keys {_keys(sources)}{note}", None
    if origin.kind == SCHEMA:
        keys = ", ".join(dotted(s.key) for s in sources)
        return f"the manifest schema's default for {keys} (not set in any manifest file){note}", None
    if origin.kind == ENGINE:
        read = f" from {_keys(sources)}" if sources else " (not set in any manifest file)"
        return f"decided by the {origin.engine} engine{read}{note}", None
    if origin.kind == PLANNER:
        if origin.constant:
            head = f"the planner default {origin.constant} in {_DEFAULTS_MODULE}"
        else:
            head = "decided by the planner"
        read = f" from {_keys(sources)}" if sources else " (not set in any manifest file)"
        return f"{head}{read}{note}", None
    keys = ", ".join(dotted(s.key) for s in sources)
    what = f" ({keys} not set)" if keys else ""
    return f"not set in any manifest file{what}: left to Modal{note}", None
