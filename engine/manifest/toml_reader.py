"""TOML text -> Layer: tomllib for the data, a small scanner of our own for the positions.

tomllib reports no positions, so `_PositionScanner` walks the (already valid) text once more and
notes where each key and value starts: table headers `[a.b]` and `[[a]]` (counting array-of-table
entries), dotted keys, inline tables and arrays. It only has to put errors on the right line, so
it is lenient; any path it misses borrows the position of its nearest ancestor (then line 1).

Dates and times are valid TOML but no manifest value is one: they are rejected here, located.
"""

from __future__ import annotations

import bisect
import datetime
import re
import tomllib
from collections.abc import Iterator
from typing import Any

from engine.manifest.errors import Location, ManifestError, Problem
from engine.manifest.source import MAX_DEPTH, KeyPath, Layer, Span, located

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ERROR_AT = re.compile(r"^(?P<msg>.*?) \(at (?:line (?P<line>\d+), column (?P<col>\d+)|end of document)\)$", re.S)


class _TooDeep(Exception):
    def __init__(self, index: int):
        self.index = index


class _PositionScanner:
    """Best-effort map from key paths to positions in TOML text that tomllib accepted."""

    def __init__(self, text: str, file: str, data: dict[str, Any] | None):
        self.s = text
        self.file = file
        self.data = data
        self.i = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.spans: dict[KeyPath, Span] = {(): Span(None, Location(file, 1, 1))}
        self.aot_counts: dict[KeyPath, int] = {}

    def loc(self, index: int) -> Location:
        line = bisect.bisect_right(self.line_starts, index) - 1
        return Location(self.file, line + 1, index - self.line_starts[line] + 1)

    # -- lexical helpers ------------------------------------------------------------------------

    def peek(self, n: int = 1) -> str:
        return self.s[self.i : self.i + n]

    def skip_ws(self, newlines: bool = False) -> None:
        chars = " \t\r\n" if newlines else " \t"
        while self.i < len(self.s):
            c = self.s[self.i]
            if c in chars:
                self.i += 1
            elif c == "#" and newlines:
                self.skip_line()
            else:
                return

    def skip_line(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = len(self.s) if end < 0 else end + 1

    def skip_string(self) -> None:
        for quote in ('"""', "'''"):
            if self.peek(3) == quote:
                self.i += 3
                while self.i < len(self.s):
                    if quote[0] == '"' and self.s[self.i] == "\\":
                        self.i += 2
                    elif self.peek(3) == quote:
                        self.i += 3
                        while self.peek(1) == quote[0]:  # up to two quotes may close the content
                            self.i += 1
                        return
                    else:
                        self.i += 1
                return
        quote = self.s[self.i]
        self.i += 1
        while self.i < len(self.s) and self.s[self.i] not in (quote, "\n"):
            self.i += 2 if quote == '"' and self.s[self.i] == "\\" else 1
        self.i += 1

    def key(self) -> list[tuple[str, int]]:
        """A dotted key: [(part, start index), ...]."""
        parts = []
        while True:
            self.skip_ws()
            start = self.i
            if self.peek() in ('"', "'"):
                self.skip_string()
                parts.append((tomllib.loads(f"k = {self.s[start : self.i]}")["k"], start))
            else:
                m = _BARE_KEY.match(self.s, self.i)
                if not m:
                    raise ValueError("not a key")
                self.i = m.end()
                parts.append((m.group(), start))
            self.skip_ws()
            if self.peek() != ".":
                return parts
            self.i += 1

    # -- structure ------------------------------------------------------------------------------

    def note(self, path: KeyPath, key_at: int | None, value_at: int, replace: bool = True, table: bool = False) -> None:
        if table and _level(path) > MAX_DEPTH:
            raise _TooDeep(value_at if key_at is None else key_at)
        if replace or path not in self.spans:
            self.spans[path] = Span(None if key_at is None else self.loc(key_at), self.loc(value_at))

    def scan(self) -> None:
        table: KeyPath = ()
        while True:
            self.skip_ws(newlines=True)
            if self.i >= len(self.s):
                return
            if self.peek(2) == "[[":
                header = self.i
                self.i += 2
                table = self.header(self.key(), header, array=True)
                self.skip_line()
            elif self.peek() == "[":
                header = self.i
                self.i += 1
                table = self.header(self.key(), header, array=False)
                self.skip_line()
            else:
                parts = self.key()
                path = table
                for n, (part, at) in enumerate(parts):
                    path = path + (part,)
                    if n < len(parts) - 1:
                        self.note(path, at, at, replace=False, table=True)
                self.skip_ws()
                self.i += 1  # '='
                self.skip_ws()
                self.value(path, parts[-1][1])
                self.skip_ws()
                if self.peek() == "#" or self.peek() in ("\n", "\r"):
                    self.skip_line()

    def header(self, parts: list[tuple[str, int]], header_at: int, array: bool) -> KeyPath:
        path: KeyPath = ()
        node = self.data
        for n, (part, at) in enumerate(parts):
            last = n == len(parts) - 1
            path = path + (part,)
            self.note(path, at, at if not last else header_at, replace=last and not array, table=True)
            node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, list):
                if last and array:
                    self.aot_counts[path] = self.aot_counts.get(path, 0) + 1
                index = self.aot_counts.get(path, 1) - 1
                path = path + (index,)
                node = node[index] if index < len(node) else None
                if last and array:
                    self.note(path, None, header_at)
        return path

    def value(self, path: KeyPath, key_at: int) -> None:
        c = self.peek()
        self.note(path, key_at, self.i, table=c in "{[")
        if c == "{":
            self.i += 1
            while True:
                self.skip_ws()
                if self.peek() == "}" or self.i >= len(self.s):
                    self.i += 1
                    return
                parts = self.key()
                sub = path
                for n, (part, at) in enumerate(parts):
                    sub = sub + (part,)
                    if n < len(parts) - 1:
                        self.note(sub, at, at, replace=False, table=True)
                self.skip_ws()
                self.i += 1  # '='
                self.skip_ws()
                self.value(sub, parts[-1][1])
                self.skip_ws()
                if self.peek() == ",":
                    self.i += 1
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self.skip_ws(newlines=True)
                if self.peek() == "]" or self.i >= len(self.s):
                    self.i += 1
                    return
                start = self.i
                self.value(path + (index,), start)
                if self.i == start:  # not valid TOML after all: stop rather than spin
                    raise ValueError("no progress")
                self.spans[path + (index,)] = Span(None, self.loc(start))
                index += 1
                self.skip_ws(newlines=True)
                if self.peek() == ",":
                    self.i += 1
        elif c in ('"', "'"):
            self.skip_string()
        else:
            while self.i < len(self.s) and self.s[self.i] not in ",]}#\n":
                self.i += 1


def _level(path: KeyPath) -> int:
    """How deep a table or array at `path` nests; the document's root table is level 1."""
    return len(path) + 1


def _walk(data: dict[str, Any]) -> Iterator[tuple[KeyPath, object]]:
    """Every (path, value) in `data`, iteratively (a header like `[a.b.c...]` can nest very deep)."""
    stack: list[tuple[KeyPath, object]] = [((), data)]
    while stack:
        path, value = stack.pop()
        yield path, value
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((path + (n,), v) for n, v in reversed(list(enumerate(value))))


def _too_deep(file: str, location: Location, key: KeyPath | str = "") -> ManifestError:
    return ManifestError(located(file, location.line, location.col, key, f"nesting is deeper than {MAX_DEPTH} levels"))


def _scan_positions(text: str, file: str, data: dict[str, Any] | None) -> dict[KeyPath, Span]:
    """Spans from the scanner; raises ManifestError where nesting passes MAX_DEPTH."""
    scanner = _PositionScanner(text, file, data)
    try:
        scanner.scan()
    except _TooDeep as deep:
        raise _too_deep(file, scanner.loc(deep.index)) from None
    # Nothing else is caught: tomllib has accepted the text, so a failure here is the scanner's
    # own bug, and it must show (the fuzz tests feed it), not degrade positions silently.
    return scanner.spans


def parse_toml(text: str, file: str) -> Layer:
    """Parse TOML into a Layer; syntax errors, too-deep nesting and date/time values are located errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _decode_error(exc, text, file) from None
    except RecursionError:
        _scan_positions(text, file, None)  # raises at the first value past MAX_DEPTH
        raise _too_deep(file, Location(file, 1, 1)) from None

    spans = _scan_positions(text, file, data)
    problems: list[Problem] = []
    for path, value in _walk(data):
        if path not in spans:
            parent = spans[path[:-1]]  # parents are visited first, so always present
            spans[path] = Span(None, parent.value)
        where = spans[path].value
        if isinstance(value, (dict, list)) and _level(path) > MAX_DEPTH:
            raise _too_deep(file, where, path)
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            problems.append(
                located(
                    file,
                    where.line,
                    where.col,
                    path,
                    "dates and times are not manifest values",
                    'write it as a quoted string, e.g. "2024-01-01"',
                )
            )
    if problems:
        raise ManifestError(problems)
    return Layer(file=file, data=data, spans=spans, plain_scalars={}, format="toml")


def _decode_error(exc: tomllib.TOMLDecodeError, text: str, file: str) -> ManifestError:
    m = _ERROR_AT.match(str(exc))
    if m is None:
        return ManifestError(located(file, 1, 1, "", f"invalid TOML: {exc}"))
    message = m.group("msg")
    if m.group("line"):
        line, col = int(m.group("line")), int(m.group("col"))
    else:  # "at end of document"
        lines = text.split("\n")
        line, col = len(lines), len(lines[-1]) + 1
    hint = "a key or table is set twice; keep one" if "overwrite" in message or "twice" in message else None
    return ManifestError(located(file, line, col, "", f"invalid TOML: {message}", hint))
