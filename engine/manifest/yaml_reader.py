"""YAML 1.2 text -> Layer, built from the parser's events so that nothing is taken on trust.

Why events and not `YAML().load`: building the data ourselves lets us stop at the first sign of a
hostile or mistaken file before it costs anything (nesting deeper than MAX_DEPTH, more than
MAX_ALIAS_USES alias uses, an alias bomb), see which tags were written explicitly, which scalars
were plain (unquoted), and where every key and value starts. The parser itself is iterative, so
deep nesting cannot exhaust the stack, and stopping at MAX_DEPTH also avoids its slowness on
thousands of nested brackets. Scalars are typed by the YAML 1.2 core schema only
(`resolve_plain_scalar`): `yes`, `NO`, `22:22` and `2024-01-01` stay strings.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from engine.manifest.errors import Location, ManifestError
from engine.manifest.source import MAX_ALIAS_USES, MAX_DEPTH, KeyPath, Layer, Span, located
from engine.manifest.yaml_events import (
    AliasEvent,
    CollectionStartEvent,
    Mark,
    ParseEvent,
    ScalarEvent,
    yaml_events,
)

if TYPE_CHECKING:
    from ruamel.yaml.error import YAMLError

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {None, "!", _CORE + "str", _CORE + "int", _CORE + "float", _CORE + "bool", _CORE + "null"}
_MAPPING_TAGS = {None, "!", _CORE + "map"}
_SEQUENCE_TAGS = {None, "!", _CORE + "seq"}
# Aliases may repeat a subtree; this bounds what the repeats may add up to (a 1 MiB file has far fewer).
_MAX_EXPANDED_NODES = 1_000_000

_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT_DEC = re.compile(r"[-+]?[0-9]+")
_INT_OCT = re.compile(r"0o[0-7]+")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")


def resolve_plain_scalar(text: str) -> str | int | float | bool | None:
    """Type an unquoted scalar by the YAML 1.2 core schema (null, bool, int, float, else str)."""
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT_DEC.fullmatch(text):
        return int(text)
    if _INT_OCT.fullmatch(text):
        return int(text[2:], 8)
    if _INT_HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


@dataclass
class _Frame:
    """A mapping or sequence being built, and (for mappings) the key waiting for its value."""

    value: dict[str, object] | list[object]
    path: KeyPath
    anchor: str | None
    key: str | None = None
    key_loc: Location | None = None
    key_lines: dict[str, int] = field(default_factory=dict)


@dataclass
class _Anchored:
    """A finished anchored node, kept as it was so each alias use gets its own copy."""

    value: object
    spans: dict[KeyPath, Span]  # relative to the anchored node
    plain: dict[KeyPath, str]  # relative path -> text as written


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.spans: dict[KeyPath, Span] = {}
        self.plain: dict[KeyPath, str] = {}
        self.anchors: dict[str, _Anchored] = {}
        self.stack: list[_Frame] = []
        self.root: object = None
        self.has_root = False
        self.alias_uses = 0
        self.expanded = 0
        self.multiline_scalars: list[tuple[int, int]] = []  # 0-based (first, last) line

    # -- errors ---------------------------------------------------------------------------------

    def fail(self, mark: Mark, key: KeyPath | str, message: str, hint: str | None = None) -> ManifestError:
        if "tag " in message and _CORE in message:  # show the tag as the user wrote it: `!!python/...`
            message = message.replace(_CORE, "!!")
        return ManifestError(located(self.file, mark.line + 1, mark.column + 1, key, message, hint))

    def loc(self, mark: Mark) -> Location:
        return Location(self.file, mark.line + 1, mark.column + 1)

    # -- where the next node goes ---------------------------------------------------------------

    def _slot(self) -> tuple[KeyPath, Location | None]:
        """The path of the node about to be placed, and the location of its key."""
        if not self.stack:
            return (), None
        top = self.stack[-1]
        if isinstance(top.value, list):
            return top.path + (len(top.value),), None
        assert top.key is not None, "a mapping's value is placed only after its key"
        return top.path + (top.key,), top.key_loc

    def _expects_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is None

    def _place(self, value: object, event: ParseEvent, path: KeyPath, key_loc: Location | None) -> None:
        self.spans[path] = Span(key_loc, self.loc(event.start_mark))
        if not self.stack:
            self.root, self.has_root = value, True
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        else:
            assert top.key is not None, "a mapping's value is placed only after its key"
            top.value[top.key] = value
            top.key, top.key_loc = None, None

    def _remember_anchor(self, name: str | None, path: KeyPath, value: object) -> None:
        if name is None:
            return
        n = len(path)
        spans = {p[n:]: s for p, s in self.spans.items() if p[:n] == path}
        plain = {p[n:]: t for p, t in self.plain.items() if p[:n] == path}
        self.anchors[name] = _Anchored(copy.deepcopy(value), spans, plain)

    # -- events ---------------------------------------------------------------------------------

    def key(self, event: ParseEvent) -> None:
        kind = type(event).__name__
        path = self.stack[-1].path
        if kind != "ScalarEvent":
            what = "an alias" if kind == "AliasEvent" else "a mapping or list"
            raise self.fail(event.start_mark, path, f"a key must be a plain string, not {what}")
        event = cast(ScalarEvent, event)  # told apart by class name (yaml_events.py)
        if event.tag not in (None, "!", _CORE + "str"):
            raise self.fail(event.start_mark, path, f"tag {event.tag!r} is not allowed on a key")
        text = event.value
        if event.style is None and event.tag is None:
            if text == "<<":
                raise self.fail(
                    event.start_mark,
                    path,
                    "YAML merge keys (`<<`) are not supported",
                    "repeat the keys, or use `defaults:` or an environment overlay",
                )
            typed = resolve_plain_scalar(text)
            if not isinstance(typed, str):
                shown = text if text else "(empty)"
                raise self.fail(event.start_mark, path, f"key {shown} is not a string", f'quote it: "{text}"')
        top = self.stack[-1]
        if text in top.key_lines:
            raise self.fail(
                event.start_mark,
                top.path + (text,),
                f"duplicate key {text!r}",
                f"first set on line {top.key_lines[text]}; keep one",
            )
        top.key_lines[text] = event.start_mark.line + 1
        top.key, top.key_loc = text, self.loc(event.start_mark)

    def scalar(self, event: ScalarEvent) -> None:
        path, key_loc = self._slot()
        tag, text = event.tag, event.value
        if tag not in _SCALAR_TAGS:
            raise self.fail(
                event.start_mark, path, f"tag {tag!r} is not allowed", "manifests hold plain data; remove the tag"
            )
        if event.start_mark.line != event.end_mark.line:
            self.multiline_scalars.append((event.start_mark.line, event.end_mark.line))
        value: object
        if tag is None and event.style is None:
            value = resolve_plain_scalar(text)
            self.plain[path] = text
        elif tag in (None, "!", _CORE + "str"):
            value = text
        else:
            value = self._typed(event, path)
        self._place(value, event, path, key_loc)
        self._remember_anchor(event.anchor, path, value)

    def _typed(self, event: ScalarEvent, path: KeyPath) -> object:
        """A scalar with an explicit core tag (`!!int 3`): its text must really be of that type."""
        assert event.tag is not None, "called for a tagged scalar only"
        name = event.tag[len(_CORE) :]
        value = resolve_plain_scalar(event.value)
        wanted = {"int": (int,), "float": (float, int), "bool": (bool,), "null": (type(None),)}[name]
        if isinstance(value, bool) and name != "bool" or not isinstance(value, wanted):
            raise self.fail(event.start_mark, path, f"the value is not a valid !!{name}")
        # (the isinstance is the check above again, for mypy: a !!float is an int or a float)
        return float(value) if name == "float" and isinstance(value, (int, float)) else value

    def start(self, event: CollectionStartEvent, is_mapping: bool) -> None:
        path, key_loc = self._slot()
        allowed = _MAPPING_TAGS if is_mapping else _SEQUENCE_TAGS
        if event.tag not in allowed:
            raise self.fail(
                event.start_mark, path, f"tag {event.tag!r} is not allowed", "manifests hold plain data; remove the tag"
            )
        if len(self.stack) + 1 > MAX_DEPTH:
            raise self.fail(event.start_mark, path, f"nesting is deeper than {MAX_DEPTH} levels")
        value: dict[str, object] | list[object] = {} if is_mapping else []
        self._place(value, event, path, key_loc)
        self.stack.append(_Frame(value, path, event.anchor))

    def end(self) -> None:
        frame = self.stack.pop()
        self._remember_anchor(frame.anchor, frame.path, frame.value)

    def alias(self, event: AliasEvent) -> None:
        path, key_loc = self._slot()
        self.alias_uses += 1
        if self.alias_uses > MAX_ALIAS_USES:
            raise self.fail(
                event.start_mark,
                path,
                f"more than {MAX_ALIAS_USES} alias uses",
                "manifests may reuse a few anchors; repeat the values or use `defaults:`",
            )
        anchored = self.anchors.get(event.anchor)
        if anchored is None:
            raise self.fail(
                event.start_mark,
                path,
                f"alias *{event.anchor} refers to no finished anchor",
                "define `&name` before using `*name`, and not inside itself",
            )
        self.expanded += len(anchored.spans)
        if self.expanded > _MAX_EXPANDED_NODES:
            raise self.fail(event.start_mark, path, "aliases expand to too many values")
        if len(path) + _depth(anchored.value) > MAX_DEPTH:
            raise self.fail(event.start_mark, path, f"nesting is deeper than {MAX_DEPTH} levels")
        self._place(copy.deepcopy(anchored.value), event, path, key_loc)
        for rel, span in anchored.spans.items():
            if rel:
                self.spans[path + rel] = span
        self.plain.update((path + rel, t) for rel, t in anchored.plain.items())


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def parse_yaml(text: str, file: str, *, overlay: bool = False) -> Layer:
    """Parse one YAML 1.2 document into a Layer; any problem is a located ManifestError. An
    `overlay` with no document (empty, or comments only) changes nothing, as an empty TOML one."""
    from ruamel.yaml.error import YAMLError

    builder = _Builder(file)
    documents = 0
    try:
        # libyaml's events where they cannot differ from the pure YAML 1.2 parser's (yaml_events.py).
        for event in yaml_events(text):
            kind = type(event).__name__
            if kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    raise builder.fail(
                        event.start_mark,
                        "",
                        "more than one YAML document in the file",
                        "keep one document per manifest; remove the extra `---`",
                    )
            elif kind in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
                continue
            elif builder._expects_key() and kind not in ("MappingEndEvent",):
                builder.key(event)
            # The casts name the kind the class name has just told (yaml_events.py).
            elif kind == "ScalarEvent":
                builder.scalar(cast(ScalarEvent, event))
            elif kind == "MappingStartEvent":
                builder.start(cast(CollectionStartEvent, event), is_mapping=True)
            elif kind == "SequenceStartEvent":
                builder.start(cast(CollectionStartEvent, event), is_mapping=False)
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                builder.end()
            elif kind == "AliasEvent":
                builder.alias(cast(AliasEvent, event))
    except ManifestError:
        raise
    except YAMLError as exc:
        raise _parse_error(exc, text, file) from None
    except RecursionError:
        raise ManifestError(located(file, 1, 1, "", f"nesting is deeper than {MAX_DEPTH} levels")) from None
    except Exception as exc:  # the parser is third-party: a crash in it is still the file's problem to report
        raise ManifestError(
            located(file, 1, 1, "", f"the YAML parser could not read this file ({type(exc).__name__})")
        ) from None

    _check_tabs(text, file, builder.multiline_scalars)
    if not builder.has_root or builder.root is None:
        if overlay:
            return Layer(file=file, data={}, spans={(): Span(None, Location(file, 1, 1))}, format="yaml")
        raise ManifestError(located(file, 1, 1, "", "the manifest is empty", "start with `version: 1`"))
    if not isinstance(builder.root, dict):
        where = builder.spans[()].value
        kind = "a list" if isinstance(builder.root, list) else "a single value"
        raise ManifestError(
            located(file, where.line, where.col, "", f"the manifest must be a mapping of keys, not {kind}")
        )
    plain = {p: t for p, t in builder.plain.items() if p}
    return Layer(file=file, data=builder.root, spans=builder.spans, plain_scalars=plain, format="yaml")


def _leading_tab(line: str) -> int | None:
    """0-based column of a tab in the indentation of a non-blank, non-comment line."""
    stripped = line.lstrip(" \t")
    if not stripped or stripped.startswith("#"):
        return None
    indent = line[: len(line) - len(stripped)]
    return indent.index("\t") if "\t" in indent else None


def _tab_error(file: str, line_no: int, col: int) -> ManifestError:
    return ManifestError(
        located(
            file,
            line_no + 1,
            col + 1,
            "",
            "a tab is used for indentation",
            "YAML indents with spaces only; replace the tab with spaces",
        )
    )


def _check_tabs(text: str, file: str, multiline: list[tuple[int, int]]) -> None:
    """Reject tab indentation the parser let through (it is only legal inside multi-line scalars)."""
    inside: set[int] = set()
    for first, last in multiline:
        inside.update(range(first + 1, last + 1))
    for number, line in enumerate(text.splitlines()):
        col = _leading_tab(line)
        if col is not None and number not in inside:
            raise _tab_error(file, number, col)


def _parse_error(exc: YAMLError, text: str, file: str) -> ManifestError:
    from ruamel.yaml.reader import ReaderError

    mark = getattr(exc, "problem_mark", None)
    if mark is None and isinstance(exc, ReaderError):  # an unacceptable character
        before = text[: exc.position]
        line, col = before.count("\n"), exc.position - (before.rfind("\n") + 1)
        return ManifestError(
            located(
                file,
                line + 1,
                col + 1,
                "",
                f"character #x{exc.character:04x} is not allowed in YAML",
                "remove control characters from the file",
            )
        )
    line, col = (mark.line, mark.column) if mark is not None else (0, 0)
    lines = text.splitlines()
    tab = _leading_tab(lines[line]) if line < len(lines) else None
    if tab is not None:
        return _tab_error(file, line, tab)
    problem = getattr(exc, "problem", None) or "the file is not valid YAML"
    context = getattr(exc, "context", None)
    message = f"{problem} ({context})" if context else problem
    text_line = lines[line] if line < len(lines) else ""
    if "flow" in (context or "") and text_line[col : col + 1] == "{" and text_line[col - 1 : col] == "$":
        # `[${S}]`, `{team: ${TEAM}}`: inside brackets or braces YAML reads `{` as the start of a
        # mapping, so an unquoted reference cannot be parsed there.
        return ManifestError(
            located(
                file,
                line + 1,
                col,
                "",
                f"invalid YAML: {message}",
                'inside [...] or {...} quote a ${VAR} reference: "${VAR}", or write the list or mapping one item per line',
            )
        )
    return ManifestError(located(file, line + 1, col + 1, "", f"invalid YAML: {message}"))
