"""Cost estimate of a Blueprint: what its GPUs cost per hour when idle and at peak.

Pure arithmetic over the Blueprint and the price table in `gpu_prices.json` (data, with its
source and date beside it). Idle is what `min_containers` keep running with no traffic; peak is
every container up to `max_containers` (no limit -> "unbounded"). Only GPUs are priced: the
table has no CPU or memory prices, and an estimate that guessed them would look more exact than it
is. A GPU missing from the table is reported as unpriced rather than guessed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine.blueprint.model import Blueprint, ContainerSpec

SECONDS_PER_HOUR = 3600
_PRICE_FILE = Path(__file__).with_name("gpu_prices.json")


@dataclass(frozen=True)
class PriceTable:
    """GPU prices per GPU per second, keyed by Modal's GPU type names."""

    gpu: dict[str, float]
    aliases: dict[str, str]
    currency: str
    source: str
    source_url: str
    as_of: str

    def priced_as(self, gpu_type: str) -> str:
        """The table entry a GPU type is priced by ("A100" -> "A100-40GB")."""
        name = gpu_type.upper()
        return self.aliases.get(name, name)

    def gpu_price_per_second(self, gpu_type: str) -> float | None:
        return self.gpu.get(self.priced_as(gpu_type))


@cache
def load_price_table() -> PriceTable:
    data = json.loads(_PRICE_FILE.read_text(encoding="utf-8"))
    return PriceTable(
        gpu={k.upper(): float(v) for k, v in data["gpu"].items()},
        aliases={k.upper(): v.upper() for k, v in data["aliases"].items()},
        currency=data["currency"],
        source=data["source"],
        source_url=data["source_url"],
        as_of=data["as_of"],
    )


def parse_gpu_request(request: str) -> tuple[str, int]:
    """"H100:2" -> ("H100", 2); "L4" -> ("L4", 1). The planner already validated the string."""
    gpu_type, sep, count = request.rpartition(":")
    if sep and count.isdigit():
        return gpu_type, int(count)
    return request, 1


@dataclass(frozen=True)
class ObjectCost:
    """The estimate for one server or function. Money is per hour, in the table's currency.

    `per_container` is None when the GPU has no price; `peak_per_hour` is None when it is
    unbounded (`max_containers` unset) or unpriced.
    """

    kind: str  # "server" | "function"
    key: str
    gpu: tuple[str, ...]
    priced_gpu: str | None  # the entry priced: the first (preferred) of a fallback list
    min_containers: int
    max_containers: int | None
    per_container: float | None
    idle_per_hour: float | None
    peak_per_hour: float | None
    notes: tuple[str, ...] = ()

    @property
    def priced(self) -> bool:
        return self.per_container is not None

    @property
    def peak_unbounded(self) -> bool:
        return self.max_containers is None and bool(self.per_container)


@dataclass(frozen=True)
class CostEstimate:
    objects: tuple[ObjectCost, ...]
    idle_per_hour: float  # sum over priced objects
    peak_per_hour: float | None  # None: some priced GPU object has no max_containers
    unpriced: tuple[str, ...]  # "server chat (H200)": left out of both totals
    currency: str
    source_url: str
    as_of: str

    @property
    def peak_unbounded(self) -> bool:
        return self.peak_per_hour is None


def _money(value: float) -> float:
    # Rounded so that sums do not print float noise and estimates compare equal across runs.
    return round(value, 4)


def estimate_object(kind: str, key: str, container: ContainerSpec, prices: PriceTable) -> ObjectCost:
    scaling = container.scaling
    notes: list[str] = []
    if not container.gpu:
        per_container: float | None = 0.0
        priced_gpu = None
    else:
        priced_gpu = container.gpu[0]
        gpu_type, count = parse_gpu_request(priced_gpu)
        price = prices.gpu_price_per_second(gpu_type)
        if len(container.gpu) > 1:
            notes.append(f"fallback list {', '.join(container.gpu)}: priced the preferred {priced_gpu}")
        if price is not None and prices.priced_as(gpu_type) != gpu_type.upper():
            notes.append(f"{gpu_type} priced as {prices.priced_as(gpu_type)}")
        if price is None:
            per_container = None
            notes.append(f"no price known for {gpu_type}: left out of the totals")
        else:
            per_container = _money(price * count * SECONDS_PER_HOUR)
    idle = None if per_container is None else _money(per_container * scaling.min_containers)
    if per_container is None or scaling.max_containers is None:
        peak = None
    else:
        peak = _money(per_container * scaling.max_containers)
    if per_container == 0.0 and scaling.max_containers is None:
        peak = 0.0  # no GPU: nothing to multiply, however many containers run
    return ObjectCost(
        kind=kind,
        key=key,
        gpu=container.gpu,
        priced_gpu=priced_gpu,
        min_containers=scaling.min_containers,
        max_containers=scaling.max_containers,
        per_container=per_container,
        idle_per_hour=idle,
        peak_per_hour=peak,
        notes=tuple(notes),
    )


def estimate_cost(blueprint: Blueprint, prices: PriceTable | None = None) -> CostEstimate:
    """Idle and peak GPU cost per hour of every server and function, and their totals."""
    prices = prices or load_price_table()
    objects = [estimate_object("server", s.key, s.container, prices) for s in blueprint.servers]
    objects += [estimate_object("function", f.key, f.container, prices) for f in blueprint.functions]
    priced = [o for o in objects if o.priced]
    unpriced = tuple(f"{o.kind} {o.key} ({o.priced_gpu})" for o in objects if not o.priced)
    idle_total = _money(sum(o.idle_per_hour or 0.0 for o in priced))
    if any(o.peak_unbounded for o in priced):
        peak_total: float | None = None
    else:
        peak_total = _money(sum(o.peak_per_hour or 0.0 for o in priced))
    return CostEstimate(
        objects=tuple(objects),
        idle_per_hour=idle_total,
        peak_per_hour=peak_total,
        unpriced=unpriced,
        currency=prices.currency,
        source_url=prices.source_url,
        as_of=prices.as_of,
    )


def format_money(value: float | None, *, unbounded: bool = False) -> str:
    """"$3.95/h"; "unbounded"; "unpriced" (no price known). Two decimals, or four below a cent."""
    if unbounded:
        return "unbounded"
    if value is None:
        return "unpriced"
    digits = 2 if value == 0 or value >= 0.01 else 4
    return f"${value:,.{digits}f}/h"
