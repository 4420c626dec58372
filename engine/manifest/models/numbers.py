"""Numbers no manifest setting can mean, refused wherever they appear: `.inf`, `.nan` and integers
(or floats) beyond what Modal's API can carry.

One rule over the raw data instead of a bound on every field: YAML's `.inf`/`.nan`, TOML's
`inf`/`nan` and 30-digit integers parse as numbers, and per-field bounds either let them through
(`cpu: .inf` is "greater than 0") or describe them wrongly (`must be greater than 0 (got nan)`).
Where this rule speaks, `validate.py` drops what pydantic said about the same value.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from engine.manifest.models.base import Finding
from engine.manifest.source import KeyPath

# Modal's API carries every count, size and duration as a 32-bit integer: uint32 in
# modal_proto/api.proto (Resources.memory_mb, Resources.milli_cpu, AutoscalerSettings.max_containers,
# Function.timeout_secs, ...) and int32 for Schedule.Period's fields. Nothing a manifest sets can
# be larger than the smaller of the two.
MAX_NUMBER = 2**31 - 1
NOT_FINITE = "is not a finite number (YAML's .inf and .nan, TOML's inf and nan)"
TOO_LARGE = f"is far too large: no Modal setting takes a number beyond {MAX_NUMBER}"


def _numbers(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, int | float]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _numbers(item, (*path, index))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield path, value


def is_absurd_number(value: Any) -> bool:
    """True for a number no setting can take: not finite, or beyond MAX_NUMBER either way."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return True
    return abs(value) > MAX_NUMBER


def _any_absurd(data: Any) -> bool:
    # Every manifest is scanned and almost none has such a number: a flat scan without paths
    # first, dispatching on the exact type (bool is not int here, and nan fails the comparison).
    stack = [data]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is str:
            continue
        if kind is dict:
            extend(value.values())
        elif kind is list:
            extend(value)
        elif (kind is float or kind is int) and not -MAX_NUMBER <= value <= MAX_NUMBER:
            return True
    return False


def check_numbers(data: Any) -> list[Finding]:
    """A finding for every number in `data` that is not finite or is absurdly large."""
    if not _any_absurd(data):
        return []
    findings = []
    for path, value in _numbers(data, ()):
        if isinstance(value, float) and not math.isfinite(value):
            findings.append(Finding(path, NOT_FINITE, "write the number you mean"))
        elif abs(value) > MAX_NUMBER:
            findings.append(Finding(path, TOO_LARGE, "check for a stray digit or a wrong unit"))
    return findings
