"""Where each Blueprint value came from, recorded by the planner as it decides the value.

The record travels beside the Blueprint (the planner returns both: `planner.PlannedApp`), never
inside it: the container receives the Blueprint alone, and nothing on its import path imports this
module. `mdeploy explain` reads the record and nothing else; the human renderers (plan, diff,
explain, deploy --dry-run) read it to show a value that came from a `${VAR}` as that reference.

Paths are Blueprint paths as explain addresses them: a collection, an object's manifest key, then
field names and list indices — `("servers", "llama", "container", "scaling", "scaledown_window")`,
`("images", "base", "steps", 0)`. A path without an entry of its own takes the entry of its nearest
ancestor, unless that entry says its parts are recorded separately (`parts`).

Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

# A place in the Blueprint: keys and list indices, ("servers", "chat", "command", 3).
BlueprintPath = tuple[str | int, ...]

# Origin kinds.
MANIFEST = "manifest"  # a key some manifest file sets (the base or the overlay)
DEFAULTS = "defaults"  # inherited from an entry of `defaults:`
SCHEMA = "schema"  # the manifest schema's default for a key that no file sets
ENGINE = "engine"  # decided by an engine, from the manifest keys in `sources`
PLANNER = "planner"  # a planner default (`constant`), or derived by the planner from `sources`
UNSET = "unset"  # set by nothing: the Blueprint leaves it to Modal


@dataclass(frozen=True)
class Source:
    """One manifest input: its dotted path, where a file set it, and the `${...}` texts it came from.

    `whole` is True when the input's entire value is the expansion of `references[0]` (the file
    wrote exactly one string, which referenced variables); False when only parts below it did.
    """

    key: tuple[str | int, ...]  # manifest keys and list indices
    location: str | None = None
    references: tuple[str, ...] = ()
    whole: bool = False


@dataclass(frozen=True)
class Origin:
    kind: str
    sources: tuple[Source, ...] = ()
    engine: str | None = None  # ENGINE: the engine's name
    constant: str | None = None  # PLANNER: the name of the constant in planner/defaults.py
    # False: the value is computed from its sources (a launch command, a warm-up body), so a
    # reference cannot stand for it and it is shown as derived.
    direct: bool = True
    # True: the value's parts (fields, list elements) have entries of their own; this entry
    # describes the whole only.
    parts: bool = False
    note: str | None = None  # why, in words, where kind and sources do not say it

    @property
    def references(self) -> tuple[str, ...]:
        found: dict[str, None] = {}
        for source in self.sources:
            found.update(dict.fromkeys(source.references))
        return tuple(found)

    def shown_as(self) -> str | None:
        """The text humans see instead of a value that came from variables; None: show the value."""
        references = self.references
        if not references:
            return None
        if self.direct and len(self.sources) == 1 and self.sources[0].whole:
            return self.sources[0].references[0]
        return f"(from {', '.join(references)})"


class Origins:
    """The planner's record: Blueprint path -> Origin."""

    def __init__(self, entries: Mapping[BlueprintPath, Origin] | None = None):
        self._entries: dict[BlueprintPath, Origin] = dict(entries or {})

    def __len__(self) -> int:
        return len(self._entries)

    def items(self) -> Iterator[tuple[BlueprintPath, Origin]]:
        return iter(self._entries.items())

    def get(self, path: BlueprintPath) -> Origin | None:
        """The entry recorded at exactly `path`."""
        return self._entries.get(tuple(path))

    def find(self, path: BlueprintPath) -> tuple[BlueprintPath, Origin] | None:
        """(where, origin) for `path`: its own entry, else the nearest ancestor's that covers it."""
        path = tuple(path)
        own = self._entries.get(path)
        if own is not None:
            return path, own
        for cut in range(len(path) - 1, -1, -1):
            above = self._entries.get(path[:cut])
            if above is not None and not above.parts:
                return path[:cut], above
        return None

    def reference(self, path: BlueprintPath) -> str | None:
        """What to show instead of the value at `path` when it came from variables, else None."""
        found = self.find(path)
        if found is None or found[1].parts:
            return None
        return found[1].shown_as()

    def shown(self, path: BlueprintPath, value: Any) -> Any:
        """`value` (JSON data of the Blueprint at `path`) with every part that came from variables
        replaced, whole, by its reference: what humans see."""
        replaced = self.reference(path)
        if replaced is not None:
            return replaced
        if isinstance(value, dict):
            return {key: self.shown((*path, key), item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.shown((*path, index), item) for index, item in enumerate(value)]
        return value

    def text(self, path: BlueprintPath, value: Any, render: Any = str) -> str:
        """The value at `path` rendered for a human by `render`, or its reference."""
        replaced = self.reference(path)
        return replaced if replaced is not None else render(value)


NO_ORIGINS = Origins()
