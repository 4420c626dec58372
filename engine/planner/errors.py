"""Planner-side user mistakes, located like validation errors.

Most mistakes are caught by the models; a few only show once an engine is chosen (a setting that
engine cannot honour). Those are reported with the same `file:line:col: dotted.key` shape, found
through the overlay's provenance by the validator's own `Locator`.
"""

from __future__ import annotations

from engine.manifest.errors import Problem
from engine.manifest.overlay import Merged
from engine.manifest.translate import Locator, dotted
from engine.manifest.validate import hide_values
from engine.planner.origins import KeyPath


def problem(merged: Merged, path: KeyPath, message: str, hint: str | None = None) -> Problem:
    """`merged`: the loader's Merged; `path`: manifest keys, list
    items by int index (shown as `extra_args[1]`). A value from a variable that the message
    quotes is shown as its reference, as in validation."""
    location = Locator(merged).at_key(path)
    found = Problem(location=location, key=dotted(path), message=message, hint=hint)
    return hide_values(found, merged)
