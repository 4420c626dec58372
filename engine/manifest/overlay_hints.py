""" "Did you mean" for an overlay entry that the base does not have.

An overlay changes a service (function, image, volume, ...) by naming its key; a misspelt key
(`lama:` for `llama:`) is not an unknown key to the schema, it is a new, incomplete entry, and the
user is told only "missing required key 'kind'". When an entry new in the overlay has errors and
the base has a key close to it, one more problem, at the overlay's key, names the base's key.
A new entry that validates is a deliberate addition and gets no remark.
"""

from __future__ import annotations

import difflib

from engine.manifest.errors import Problem
from engine.manifest.overlay import Merged
from engine.manifest.translate import dotted

_COLLECTIONS = ("services", "functions", "images", "volumes", "secrets", "dicts", "queues", "buckets", "models")


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith((prefix + ".", prefix + "[", prefix + '["'))


def new_overlay_entries_hints(merged: Merged, problems: list[Problem]) -> list[Problem]:
    """One problem per overlay-only entry that fails validation and resembles a base entry."""
    files, spans, data = merged.files, merged.spans, merged.data
    errors = [p.key for p in problems if p.is_error]
    if len(files) < 2 or not errors or not isinstance(data, dict):
        return []
    base_file = files[0]
    hints = []
    for section in _COLLECTIONS:
        entries = data.get(section)
        if not isinstance(entries, dict):
            continue
        origin = {key: spans.get((section, key)) for key in entries}
        base_keys = [k for k, span in origin.items() if span is not None and span.key and span.key.file == base_file]
        for key, span in origin.items():
            if span is None or span.key is None or span.key.file == base_file or not isinstance(key, str):
                continue
            prefix = dotted((section, key))
            if not any(_under(error, prefix) for error in errors):
                continue
            close = difflib.get_close_matches(key, base_keys, n=1, cutoff=0.6)
            if close:
                noun = section[:-1] if section != "dicts" else "dict"
                hints.append(
                    Problem(
                        span.key,
                        prefix,
                        f"the base manifest has no {noun} {key!r}, so this overlay declares a new one",
                        f"did you mean '{close[0]}'? an overlay changes an entry by its exact key",
                    )
                )
    return hints
