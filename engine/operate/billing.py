"""Modal's billing, read with its CLI: live rates over the price table, and what an app cost.

`modal billing rates --json` prints `{name: decimal string}`. Modal does not document the names,
so each one is matched by its words: a GPU type of the table ("h100", "gpu.a100-80gb"), "cpu", or
"memory"/"mem"; a name that says "hour" is a rate per hour, any other a rate per second, as Modal's
pricing page lists them. A rate more than ten times away from the table's is not taken (the unit
was not understood) and is reported, as is every name that matched nothing; what no live rate
covers keeps the table's price. Region and non-preemptible multipliers are the table's.

`modal billing report --json` prints one row per object, interval and (with `--show-resources`)
resource; the app's rows are those whose description is the app name (and environment, when one
was chosen).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.errors import UserError
from engine.operate.modal_cli import ModalCall, call
from engine.plan.cost import SECONDS_PER_HOUR, PriceTable, with_prices

RATES_SOURCE = "`modal billing rates`"
PLAUSIBLE_FACTOR = 10
_SINCE = re.compile(r"^(?P<n>[1-9][0-9]*)(?P<unit>[dh])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def rates_call() -> ModalCall:
    return call("billing", "rates", "--json")


def _words(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class LiveRates:
    table: PriceTable
    used: tuple[str, ...]  # rate names taken
    ignored: tuple[str, ...]  # "NAME (why)"


def live_price_table(rates: Mapping[str, Any], table: PriceTable, fetched_on: str) -> LiveRates:
    gpu = dict(table.gpu)
    cpu, memory = table.cpu_core, table.memory_gib
    # Longest names first, so "a100-80gb" is not read as "a100" or "a10". An alias spelled like a
    # priced type once punctuation goes ("B200+" is "b200") is left out: a B200 rate is not B300's.
    priced_words = {_words(name) for name in table.gpu}
    aliases = {alias for alias in table.aliases if _words(alias) not in priced_words}
    gpu_names = sorted({*table.gpu, *aliases}, key=lambda n: (-len(_words(n)), n))
    used, ignored = [], []
    for name, raw in sorted(rates.items()):
        try:
            value = float(Decimal(str(raw)))
        except (InvalidOperation, ValueError):
            ignored.append(f"{name} (not a number)")
            continue
        words = _words(name)
        per_second = value / SECONDS_PER_HOUR if ("hour" in words or words.endswith("hr")) else value
        target = next((g for g in gpu_names if _words(g) in words), None)
        if target is not None:
            entry = table.priced_as(target)
            current = gpu.get(entry)
        elif "cpu" in words:
            entry, current = "cpu", cpu
        elif "mem" in words:  # memory, mem
            entry, current = "memory", memory
        else:
            ignored.append(f"{name} (no GPU, CPU or memory in its name)")
            continue
        if current and not (current / PLAUSIBLE_FACTOR <= per_second <= current * PLAUSIBLE_FACTOR):
            ignored.append(f"{name} (unit not understood: {per_second:g}/s against the table's {current:g}/s)")
            continue
        if entry == "cpu":
            cpu = per_second
        elif entry == "memory":
            memory = per_second
        else:
            gpu[entry] = per_second
        used.append(name)
    if not used:
        return LiveRates(table, (), tuple(ignored))
    live = with_prices(table, gpu=gpu, cpu_core=cpu, memory_gib=memory, source_url=RATES_SOURCE, as_of=fetched_on)
    return LiveRates(live, tuple(used), tuple(ignored))


# ---- actual cost -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: str  # what `modal billing report --start` takes
    resolution: str  # "d" | "h"
    hours: int | None  # its length, when known (None for a date: up to now, in full days)
    shown: str


def parse_since(since: str) -> Window:
    """`7d` (the last 7 full days), `12h` (the last 12 full hours) or a date `2026-11-01`."""
    match = _SINCE.match(since.strip())
    if match:
        n, unit = int(match["n"]), match["unit"]
        word = "day" if unit == "d" else "hour"
        return Window(f"{n} {word}s ago", unit, n * (24 if unit == "d" else 1), f"the last {n} {word}s")
    if _DATE.match(since.strip()):
        try:
            datetime.date.fromisoformat(since.strip())
        except ValueError as exc:  # 2026-13-01, 2026-02-30: Modal's report would be asked for it
            raise UserError(f"--since {since!r} is not a date: {exc}") from None
        return Window(since.strip(), "d", None, f"since {since.strip()}")
    raise UserError(f"--since {since!r}: give a number of days or hours (7d, 12h) or a date (2026-11-01)")


def report_call(window: Window, tag_names: list[str]) -> ModalCall:
    tags = ("--tag-names", ",".join(tag_names)) if tag_names else ()
    return call(
        "billing",
        "report",
        "--start",
        window.start,
        "--resolution",
        window.resolution,
        "--show-resources",
        *tags,
        "--json",
    )


@dataclass(frozen=True)
class ActualCost:
    total: float
    by_resource: dict[str, float]
    intervals: int
    rows: int
    tags: dict[str, str]


def app_actual_cost(rows: Any, app: str, env: str | None) -> ActualCost:
    if not isinstance(rows, list):
        raise UserError("`modal billing report` printed no list of rows")
    total = Decimal(0)
    by_resource: dict[str, Decimal] = {}
    intervals: set[str] = set()
    tags: dict[str, str] = {}
    count = 0
    for row in rows:
        if not isinstance(row, Mapping) or row.get("description") != app:
            continue
        if env and row.get("environment") not in (env, None):
            continue
        try:
            cost = Decimal(str(row.get("cost") or 0))
        except InvalidOperation:
            continue
        count += 1
        total += cost
        resource = str(row.get("resource") or "total")
        by_resource[resource] = by_resource.get(resource, Decimal(0)) + cost
        intervals.add(str(row.get("interval_start")))
        tags.update(_tags(row.get("tags")))
    return ActualCost(
        total=float(total),
        by_resource={k: float(v) for k, v in sorted(by_resource.items(), key=lambda kv: -kv[1])},
        intervals=len(intervals),
        rows=count,
        tags=tags,
    )


def _tags(value: Any) -> dict[str, str]:
    # The CLI prints a row's tags as a JSON string (modal/cli/billing.py: dumps(item.tags)).
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return {str(k): str(v) for k, v in value.items() if v is not None} if isinstance(value, Mapping) else {}
