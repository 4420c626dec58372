"""Deep-merge a base manifest with its environment overlay, remembering which file set each value.

Rules (docs/architecture.md, "overlay"): mappings merge key by key, recursively; scalars and lists replace
whatever was there (a list is never merged item by item); `null` in an overlay deletes the key.
A `null` in the base layer is an ordinary value and stays. Resource collections are mappings keyed
by name, so an overlay can change one service without repeating the others.

Provenance: `Merged.spans` maps every path to the span in the file that last set it, so a
validation error about an overridden value points into the overlay. A replaced list takes all its
item spans from the overlay; a merged mapping keeps the span of the layer that introduced it.
`Merged.deleted` remembers where an overlay's `null` deleted a key, so that "missing required
key" points at that `null` rather than at the base's mapping; `Merged.idle_nulls` where one
deleted nothing (no such key below it), so that validation can refuse a misspelt key there.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.manifest.errors import Location
from engine.manifest.source import KeyPath, Layer, Span, is_under, location_of


@dataclass
class Merged:
    """The merged data of one manifest and its overlay, shaped like a Layer.

    `files` lists the display paths of the layers, base first. `plain_scalars` and `interpolated`
    are carried over from the layer that set each path (see `Layer`).
    """

    data: dict[str, Any]
    spans: dict[KeyPath, Span]
    files: tuple[str, ...]
    plain_scalars: dict[KeyPath, str] = field(default_factory=dict)
    interpolated: dict[KeyPath, str] = field(default_factory=dict)
    deleted: dict[KeyPath, Span] = field(default_factory=dict)
    idle_nulls: dict[KeyPath, Span] = field(default_factory=dict)

    def location(self, path: KeyPath) -> Location:
        """Where the value at `path` (or its nearest located ancestor) was set."""
        return location_of(self.spans, path, self.files[0] if self.files else "<manifest>")


class _Merger:
    def __init__(self, base: Layer):
        self.data = copy.deepcopy(base.data)
        self.spans = dict(base.spans)
        self.plain = dict(base.plain_scalars)
        self.interpolated = dict(base.interpolated)
        self.deleted: dict[KeyPath, Span] = {}
        self.idle_nulls: dict[KeyPath, Span] = {}

    def _forget(self, path: KeyPath) -> None:
        """Drop the provenance of `path` and everything under it."""
        for p in [p for p in self.spans if is_under(p, path)]:
            del self.spans[p]
        self.plain = {p: t for p, t in self.plain.items() if not is_under(p, path)}
        self.interpolated = {p: t for p, t in self.interpolated.items() if not is_under(p, path)}

    def _adopt(self, layer: Layer, path: KeyPath) -> None:
        """Take the provenance of `path` and everything under it from `layer`."""
        self.spans.update((p, s) for p, s in layer.spans.items() if is_under(p, path))
        self.plain.update((p, t) for p, t in layer.plain_scalars.items() if is_under(p, path))
        self.interpolated.update((p, t) for p, t in layer.interpolated.items() if is_under(p, path))

    def merge(self, target: dict[str, Any], source: dict[str, Any], path: KeyPath, layer: Layer) -> None:
        for key, value in source.items():
            here = path + (key,)
            if value is None:
                if key in target:
                    del target[key]
                    self._forget(here)
                    span = layer.spans.get(here)
                    if span is not None:
                        self.deleted[here] = span
                elif here in layer.spans:
                    self.idle_nulls[here] = layer.spans[here]
                continue
            self.deleted = {p: s for p, s in self.deleted.items() if not is_under(p, here)}
            self.idle_nulls = {p: s for p, s in self.idle_nulls.items() if not is_under(p, here)}
            if isinstance(value, dict):
                if not isinstance(target.get(key), dict):
                    # A new (or retyped) mapping: merge into an empty one so nested nulls delete too.
                    self._forget(here)
                    target[key] = {}
                    self.spans[here] = layer.spans.get(here, Span(None, location_of(layer.spans, here, layer.file)))
                self.merge(target[key], value, here, layer)
                continue
            target[key] = copy.deepcopy(value)
            self._forget(here)
            self._adopt(layer, here)


def merge_layers(layers: Sequence[Layer]) -> Merged:
    """Merge `layers` in order (base first, overlays after); see the module docstring for the rules."""
    if not layers:
        raise ValueError("merge_layers needs at least one layer")
    merger = _Merger(layers[0])
    for layer in layers[1:]:
        merger.merge(merger.data, layer.data, (), layer)
    return Merged(
        data=merger.data,
        spans=merger.spans,
        files=tuple(layer.file for layer in layers),
        plain_scalars=merger.plain,
        interpolated=merger.interpolated,
        deleted=merger.deleted,
        idle_nulls=merger.idle_nulls,
    )
