"""Cost estimate of a Blueprint: what its containers cost per hour when idle and at peak.

Pure arithmetic over the Blueprint and a price table: `prices.json` (data, with its source and
date beside it) offline, or the same table with Modal's live rates laid over it
(engine/operate/billing.py). Idle is what `min_containers` keep running with no traffic; peak is
every container up to `max_containers` (no limit -> "unbounded").

One container costs its GPUs, plus its CPU and memory requests (Modal bills the greater of request
and usage, so the request is a floor; an unset request is Modal's default of 0.125 cores and
128 MiB; an ephemeral disk raises the memory request to disk / 20), times the region multiplier
when a container region is set. Non-preemptible containers pay 3x for CPU and memory. A GPU
missing from the table makes its object unpriced rather than guessed.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from engine.blueprint.model import Blueprint, ContainerSpec

SECONDS_PER_HOUR = 3600
MIB_PER_GIB = 1024
_PRICE_FILE = Path(__file__).with_name("prices.json")


@dataclass(frozen=True)
class PriceTable:
    """Prices per second, keyed by Modal's GPU type names; CPU per physical core, memory per GiB."""

    gpu: dict[str, float]
    aliases: dict[str, str]
    cpu_core: float
    memory_gib: float
    default_cpu_cores: float
    default_memory_mib: int
    disk_to_memory_ratio: int
    broad_region_multiplier: float
    narrow_region_multiplier: float
    nonpreemptible_multiplier: float
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

    def region_multiplier(self, regions: tuple[str, ...]) -> float:
        """1 without a container region; broad ("us") or narrow ("us-west"), the smaller of several."""
        if not regions:
            return 1.0
        return min(self.narrow_region_multiplier if "-" in r else self.broad_region_multiplier for r in regions)


@cache
def load_price_table() -> PriceTable:
    data = json.loads(_PRICE_FILE.read_text(encoding="utf-8"))
    return PriceTable(
        gpu={k.upper(): float(v) for k, v in data["gpu"].items()},
        aliases={k.upper(): v.upper() for k, v in data["aliases"].items()},
        cpu_core=float(data["cpu_core"]),
        memory_gib=float(data["memory_gib"]),
        default_cpu_cores=float(data["default_request"]["cpu_cores"]),
        default_memory_mib=int(data["default_request"]["memory_mib"]),
        disk_to_memory_ratio=int(data["disk_to_memory_ratio"]),
        broad_region_multiplier=float(data["region_multipliers"]["broad"]),
        narrow_region_multiplier=float(data["region_multipliers"]["narrow"]),
        nonpreemptible_multiplier=float(data["nonpreemptible_multiplier"]["cpu_memory"]),
        currency=data["currency"],
        source=data["source"],
        source_url=data["source_url"],
        as_of=data["as_of"],
    )


def with_prices(table: PriceTable, **changes: Any) -> PriceTable:
    """A copy of `table` with some prices or its provenance replaced (live rates)."""
    return dataclasses.replace(table, **changes)


def parse_gpu_request(request: str) -> tuple[str, int]:
    """ "H100:2" -> ("H100", 2); "L4" -> ("L4", 1). The planner already validated the string."""
    gpu_type, sep, count = request.rpartition(":")
    if sep and count.isdigit():
        return gpu_type, int(count)
    return request, 1


@dataclass(frozen=True)
class ContainerPrice:
    """What one running container costs per hour, by resource (the multipliers already applied)."""

    gpu: float
    cpu: float
    memory: float

    @property
    def total(self) -> float:
        return _money(self.gpu + self.cpu + self.memory)


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
    breakdown: ContainerPrice | None = None  # per container, by resource; None when unpriced

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
    peak_per_hour: float | None  # None: some priced object has no max_containers
    unpriced: tuple[str, ...]  # "server chat (B200+)": left out of both totals
    currency: str
    source_url: str
    as_of: str

    @property
    def peak_unbounded(self) -> bool:
        return self.peak_per_hour is None


def _money(value: float) -> float:
    # Rounded so that sums do not print float noise and estimates compare equal across runs.
    return round(value, 4)


def container_price(container: ContainerSpec, gpu_per_second: float, prices: PriceTable) -> ContainerPrice:
    """Per hour: the GPUs (already counted), the CPU and memory requests, times the multipliers."""
    cores = container.cpu if container.cpu is not None else prices.default_cpu_cores
    memory_mib: float = container.memory if container.memory is not None else prices.default_memory_mib
    if container.ephemeral_disk:
        memory_mib = max(memory_mib, container.ephemeral_disk / prices.disk_to_memory_ratio)
    cpu_memory_multiplier = prices.nonpreemptible_multiplier if container.nonpreemptible else 1.0
    region = prices.region_multiplier(container.region) * SECONDS_PER_HOUR
    return ContainerPrice(
        gpu=_money(gpu_per_second * region),
        cpu=_money(cores * prices.cpu_core * cpu_memory_multiplier * region),
        memory=_money(memory_mib / MIB_PER_GIB * prices.memory_gib * cpu_memory_multiplier * region),
    )


def estimate_object(kind: str, key: str, container: ContainerSpec, prices: PriceTable, nodes: int = 1) -> ObjectCost:
    """`nodes`: containers per replica of a clustered server. Modal's scaling bounds count those
    containers one by one, so idle and peak are per container times the bounds as they are; the
    note gives the price of one whole replica."""
    scaling = container.scaling
    notes: list[str] = []
    gpu_per_second: float | None = 0.0
    priced_gpu = None
    if container.gpu:
        priced_gpu = container.gpu[0]
        gpu_type, count = parse_gpu_request(priced_gpu)
        price = prices.gpu_price_per_second(gpu_type)
        if len(container.gpu) > 1:
            notes.append(f"fallback list {', '.join(container.gpu)}: priced the preferred {priced_gpu}")
        if price is not None and prices.priced_as(gpu_type) != gpu_type.upper():
            notes.append(f"{gpu_type} priced as {prices.priced_as(gpu_type)}")
        if price is None:
            gpu_per_second = None
            notes.append(f"no price known for {gpu_type}: left out of the totals")
        else:
            gpu_per_second = price * count
    multiplier = prices.region_multiplier(container.region)
    if multiplier != 1.0:
        notes.append(f"region {', '.join(container.region)}: x{multiplier:g}")
    if container.nonpreemptible:
        notes.append(f"non-preemptible: CPU and memory x{prices.nonpreemptible_multiplier:g}")
    breakdown = None if gpu_per_second is None else container_price(container, gpu_per_second, prices)
    per_container = None if breakdown is None else breakdown.total
    if nodes > 1 and per_container is not None:
        notes.append(
            f"clustered: {nodes} containers per replica, {format_money(_money(per_container * nodes))} per replica"
        )
    idle = None if per_container is None else _money(per_container * scaling.min_containers)
    if per_container is None or scaling.max_containers is None:
        peak = None
    else:
        peak = _money(per_container * scaling.max_containers)
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
        breakdown=breakdown,
    )


def estimate_cost(blueprint: Blueprint, prices: PriceTable | None = None) -> CostEstimate:
    """Idle and peak cost per hour of every server and function, and their totals."""
    prices = prices or load_price_table()
    objects = [
        estimate_object("server", s.key, s.container, prices, s.cluster.nodes if s.cluster else 1)
        for s in blueprint.servers
    ]
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
    """ "$3.95/h"; "unbounded"; "unpriced" (no price known). Two decimals, or four below a cent."""
    if unbounded:
        return "unbounded"
    if value is None:
        return "unpriced"
    digits = 2 if value == 0 or value >= 0.01 else 4
    return f"${value:,.{digits}f}/h"
