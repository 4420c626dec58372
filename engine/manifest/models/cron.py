"""Five-field cron expressions and IANA time zones, checked before Modal sees them.

Forms per field: `*`, `5`, `1-5`, `*/15`, `10-50/10`, `5/10`, lists `1,15,30`; months also
`JAN`-`DEC`, weekdays `SUN`-`SAT` (0 and 7 are both Sunday). Macros such as `@daily` are refused
with the five fields they stand for, so every schedule reads the same way. A schedule whose dates
never exist (`0 3 30 2 *`, February 30th) is refused too: Modal would accept it and never run it.
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


def _field_values(text: str, field: str, low: int, high: int, names: list[str] | None) -> set[int]:
    """The values a field matches; raises CronError when it does not parse."""
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM_RE.match(item)
        if not match:
            raise CronError(f"{field} {item!r} is not a cron item", "write *, N, N-M, */S, N-M/S or a list N,M")
        span, step_text = match.group("range"), match.group("step")
        step = int(step_text) if step_text is not None else 1
        if step == 0:
            raise CronError(f"{field} step cannot be 0")
        if span == "*":
            start, end = low, high
        else:
            start_text, _, end_text = span.partition("-")
            start = _value(start_text, field, low, high, names)
            # `5/10` runs from 5 to the top of the range, as in Vixie cron.
            end = _value(end_text, field, low, high, names) if end_text else (high if step_text else start)
            if end < start:
                raise CronError(f"{field} range {span} runs backwards", f"write {end_text}-{start_text}")
        values.update(range(start, end + 1, step))
    return values


# The most days each month can have (February: in leap years), January first.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _never_fires(days: set[int], months: set[int]) -> CronError | None:
    """With every weekday allowed, a schedule fires only on dates that exist: `30 2` never does."""
    if any(day <= _MONTH_DAYS[month - 1] for month in months for day in days):
        return None
    names = [_MONTH_NAMES[m - 1] for m in sorted(months)]
    months_text = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    have = "has" if len(names) == 1 else "have"
    days_text = " or ".join(str(d) for d in sorted(days))
    return CronError(
        f"never fires: {months_text} {have} no day {days_text}",
        f"pick a day of month that exists in {'that month' if len(names) == 1 else 'those months'}",
    )


_INTERVAL_IN_WORDS = re.compile(
    r"(?:every\s+)?(?P<count>\d+)\s*(?P<unit>s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)",
    re.IGNORECASE,
)


def check_cron(expression: str) -> None:
    """Raise CronError unless `expression` is a valid five-field cron expression."""
    text = expression.strip()
    if text.lower() in _MACROS:
        raise CronError(f"macros like {text} are not accepted", f'write "{_MACROS[text.lower()]}"')
    fields = text.split()
    interval = _INTERVAL_IN_WORDS.fullmatch(text)
    if len(fields) != 5 and interval:  # "5 minutes": an interval, written in words
        shorthand = f"{interval['count']}{interval['unit'][0].lower()}"
        raise CronError(
            f"{text!r} is an interval in words, not a cron expression",
            f"write it as {shorthand}: `every: {shorthand}` (units s, m, h, d)",
        )
    if len(fields) != 5:
        raise CronError(
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has {len(fields)}",
            'e.g. "0 3 * * *" for 03:00 every day',
        )
    values = [_field_values(part, *spec) for part, spec in zip(fields, _FIELDS)]
    # A restricted weekday makes cron fire on either match, so only `*` there rules a date out.
    if fields[4] == "*":
        problem = _never_fires(values[2], values[3])
        if problem is not None:
            raise problem


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
