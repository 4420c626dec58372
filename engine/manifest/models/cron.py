"""Five-field cron expressions and IANA time zones, checked before Modal sees them.

Forms per field: `*`, `5`, `1-5`, `*/15`, `10-50/10`, `5/10`, lists `1,15,30`; months also
`JAN`-`DEC`, weekdays `SUN`-`SAT` (0 and 7 are both Sunday). Macros such as `@daily` are refused
with the five fields they stand for, so every schedule reads the same way.
"""

from __future__ import annotations

import re

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# (name, lowest, highest, names counted from `lowest`)
_FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)

_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_ITEM_RE = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


class CronError(ValueError):
    """A cron expression that does not parse; `hint` says what to write."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


def _value(text: str, field: str, low: int, high: int, names: list[str] | None) -> int:
    if text.isdigit():
        number = int(text)
    elif names and text.upper() in names:
        number = names.index(text.upper()) + (1 if field == "month" else 0)
    else:
        hint = f"use {low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
        raise CronError(f"{field} {text!r} is not a value", hint)
    if not low <= number <= high:
        raise CronError(f"{field} {number} is out of range {low}-{high}")
    return number


def _check_field(text: str, field: str, low: int, high: int, names: list[str] | None) -> None:
    for item in text.split(","):
        match = _ITEM_RE.match(item)
        if not match:
            raise CronError(f"{field} {item!r} is not a cron item", "write *, N, N-M, */S, N-M/S or a list N,M")
        span, step = match.group("range"), match.group("step")
        if step is not None and int(step) == 0:
            raise CronError(f"{field} step cannot be 0")
        if span == "*":
            continue
        start_text, _, end_text = span.partition("-")
        start = _value(start_text, field, low, high, names)
        if end_text:
            end = _value(end_text, field, low, high, names)
            if end < start:
                raise CronError(f"{field} range {span} runs backwards", f"write {end_text}-{start_text}")


def check_cron(expression: str) -> None:
    """Raise CronError unless `expression` is a valid five-field cron expression."""
    text = expression.strip()
    if text.lower() in _MACROS:
        raise CronError(f"macros like {text} are not accepted", f'write "{_MACROS[text.lower()]}"')
    fields = text.split()
    if len(fields) != 5:
        raise CronError(
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has {len(fields)}",
            'e.g. "0 3 * * *" for 03:00 every day',
        )
    for part, (field, low, high, names) in zip(fields, _FIELDS):
        _check_field(part, field, low, high, names)


def check_timezone(name: str) -> str | None:
    """None if `name` is an IANA time zone that zoneinfo knows, else a suggestion (or "")."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
        return None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        import difflib

        close = difflib.get_close_matches(name, sorted(zoneinfo.available_timezones()), n=1, cutoff=0.6)
        return close[0] if close else ""
