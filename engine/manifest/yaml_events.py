"""Where the YAML reader's parse events come from: libyaml when it agrees, else ruamel's pure parser.

ruamel's pure-Python scanner was four fifths of `mdeploy validate`'s time on a repository of
manifests; libyaml (PyYAML's C parser, installed with huggingface_hub) produces the same events
and marks about 25 times faster. It is only a fast path, taken when its answer cannot differ:

- libyaml implements YAML 1.1, which also breaks lines at NEL, LS and PS (U+0085, U+2028,
  U+2029); YAML 1.2 does not, so line numbers would differ. Such text goes to the pure parser.
- Anchors, aliases and tags, block scalars (`|`, `>`), empty keys, and empty values inside brackets or
  at the very end are read or placed differently by the two; text holding one goes to the pure
  parser too (a manifest rarely has any).
- Any libyaml error, or a stream longer than _MAX_FAST_EVENTS, goes to the pure parser, which
  produces the events or the error exactly as before (messages users and tests already know).
  Events are collected before the reader sees one, so a fallback starts from a clean slate; the
  cap keeps that list small (a hand-written manifest has a few hundred events).

Events keep the parser's own classes; the one difference, libyaml's `''` for a plain scalar's
style where the pure parser says None, is normalised here. tests/robustness compares both
sources on shipped manifests and on fuzzed text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


class Mark(Protocol):
    """Where an event starts or ends (both parsers' marks): 0-based line and column, and the index
    of the character in the text."""

    line: int
    column: int
    index: int


class ParseEvent(Protocol):
    """What every event of either parser has. The reader tells the kinds apart by class name
    (`ScalarEvent`, `MappingStartEvent`, ...): the two parsers' classes share names, not a base."""

    start_mark: Mark
    end_mark: Mark


class NodeEvent(ParseEvent, Protocol):
    """A scalar, an alias, or the start of a mapping or sequence."""

    anchor: str | None


class AliasEvent(NodeEvent, Protocol):
    anchor: str  # the anchor it refers to


class CollectionStartEvent(NodeEvent, Protocol):
    tag: str | None
    flow_style: bool | None


class ScalarEvent(NodeEvent, Protocol):
    tag: str | None
    value: str
    style: str | None


_MAX_FAST_EVENTS = 20_000
# Text where libyaml's answer may differ: YAML 1.1 line breaks, byte order marks (counted
# differently inside the text), and tabs (libyaml takes some that
# ruamel rejects inside plain scalars; manifests rarely hold one).
_PURE_ONLY = ("\x85", "\u2028", "\u2029", "\ufeff", "\t")


def pure_events(text: str) -> Iterable[ParseEvent]:
    """ruamel's pure safe parser (YAML 1.2): lazy, raises ruamel's YAMLError."""
    from ruamel.yaml import YAML

    # The safe parser: same events and marks as round-trip mode, without its comment bookkeeping.
    events: Iterable[ParseEvent] = YAML(typ="safe", pure=True).parse(text)  # ruamel declares no return type
    return events


def _libyaml_events(text: str) -> list[ParseEvent] | None:
    """Every event of `text` from libyaml, or None when libyaml is absent, fails or the stream is long."""
    try:
        from yaml import YAMLError
        from yaml.cyaml import CParser
    except ImportError:  # PyYAML without its C extension, or not installed
        return None
    events: list[ParseEvent] = []
    try:
        parser = CParser(text)
    except ValueError:  # text libyaml cannot take (lone surrogates)
        return None
    try:
        empty_before = False
        flow_depth = 0
        nodes_in: list[list[int]] = []  # per open collection: [is a mapping, nodes placed in it so far]
        while parser.check_event():
            event = parser.get_event()
            kind = type(event).__name__
            if empty_before:
                # The pure parser places an empty value where the next token starts: the next
                # event's start in block context. Inside brackets (the next token is a `,`) or
                # at the end of the text the two differ; leave those rare files to it.
                if flow_depth or event.start_mark.index >= len(text):
                    return None
                events[-1].start_mark = events[-1].end_mark = event.start_mark
            empty_before = False
            if kind == "AliasEvent" or getattr(event, "anchor", None) is not None:
                return None  # YAML 1.1 and 1.2 end anchor names differently (`*name:`); rare in manifests
            if getattr(event, "tag", None) is not None:
                return None  # and tags too (libyaml reads `!0,` in a flow mapping as the tag); the reader refuses tags
            is_key = bool(nodes_in) and nodes_in[-1][0] and nodes_in[-1][1] % 2 == 0
            if kind in ("ScalarEvent", "MappingStartEvent", "SequenceStartEvent") and nodes_in:
                nodes_in[-1][1] += 1
            if kind in ("MappingStartEvent", "SequenceStartEvent"):
                flow_depth += bool(event.flow_style or flow_depth)
                nodes_in.append([kind == "MappingStartEvent", 0])
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                flow_depth -= bool(flow_depth)
                nodes_in.pop()
            elif kind == "ScalarEvent" and event.style in ("|", ">"):
                return None  # block scalar headers are read differently (`|#`); rare in manifests
            elif kind == "ScalarEvent" and event.style == "":
                event.style = None
                if event.value == "" and event.tag is None:
                    if is_key:  # an empty key: the pure parser marks the `:` after it
                        return None
                    empty_before = True
            events.append(event)
            if len(events) > _MAX_FAST_EVENTS:
                return None
    except (YAMLError, RecursionError, MemoryError, ValueError):
        return None
    finally:
        parser.dispose()
    return events


def yaml_events(text: str) -> Iterable[ParseEvent]:
    """The parse events of `text`, from libyaml when it cannot differ from YAML 1.2, else pure."""
    if not any(mark in text for mark in _PURE_ONLY):
        events = _libyaml_events(text)
        if events is not None:
            return events
    return pure_events(text)
