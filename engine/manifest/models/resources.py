"""How much CPU, memory and disk one container may reserve, and where each limit comes from.

- CPU: Modal's client sends `int(1000 * cpu)` milli-cores (modal/_resources.py): below 0.001
  that is 0, which Modal reads as "no request" (its default, 0.125 cores), and anything finer
  than 0.001 is cut off. Both are refused, so the plan shows what Modal receives.
- Memory and CPU maxima: Modal enforces a maximum when the function is created ("Requests
  exceeding the maximum will be rejected with an InvalidError", modal.com/docs/guide/resources)
  but does not publish it. mdeploy refuses only what no single machine has (`MAX_CPU`,
  `MAX_MEMORY_MIB`: mdeploy's own sanity bounds, not Modal's limits), which catches unit mistakes
  (a number of KiB or bytes written as MiB) without refusing anything Modal might accept.
- Ephemeral disk: at most 3 TiB (3,145,728 MiB), Modal's resources guide ("Disk").
- Memory below Modal's default reservation of 128 MiB (the same guide) is a warning: it is legal,
  but `memory: 1` is almost always "1 GiB" written as a number of MiB.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from engine.manifest.models.base import Finding, container_bodies, fail
from engine.manifest.models.shorthands import MemorySize, parse_memory

MIN_CPU = 0.001
MAX_CPU = 512
MAX_MEMORY_MIB = 4 * 1024 * 1024
MAX_EPHEMERAL_DISK_MIB = 3 * 1024 * 1024
DEFAULT_MEMORY_MIB = 128


def check_cpu(cores: float) -> float:
    if cores <= 0:
        raise fail(f"must be greater than 0 (got {cores})", hint="CPU cores to reserve, e.g. 0.5 or 2")
    if cores < MIN_CPU:
        raise fail(
            "is less than a thousandth of a core: Modal would send 0 milli-cores, which means its default",
            hint="write at least 0.001, e.g. 0.25",
        )
    if cores > MAX_CPU:
        raise fail(
            f"is more CPU cores than one machine has (mdeploy's limit is {MAX_CPU})",
            hint="CPU is counted in physical cores, e.g. 8",
        )
    milli = cores * 1000
    if not math.isclose(milli, round(milli), abs_tol=1e-6):
        raise fail("is finer than Modal counts CPU (thousandths of a core)", hint=f"write {round(cores, 3)}")
    return cores


Cpu = Annotated[
    float, AfterValidator(check_cpu), WithJsonSchema({"type": "number", "minimum": MIN_CPU, "maximum": MAX_CPU})
]
"""CPU cores to reserve: 0.001 to 512, in thousandths."""

MemoryMiB = Annotated[int, MemorySize(MAX_MEMORY_MIB, "any one machine has (mdeploy's limit is 4 TiB)")]
"""Memory to reserve, in MiB (or "16GiB")."""

EphemeralDiskMiB = Annotated[int, MemorySize(MAX_EPHEMERAL_DISK_MIB, "Modal's largest ephemeral disk (3 TiB)")]
"""Ephemeral disk, in MiB (or "100GiB")."""


def check_low_memory(data: Any) -> list[Finding]:
    """A warning for memory below Modal's default reservation (likely GiB meant as MiB)."""
    if not isinstance(data, dict):
        return []
    findings = []
    for path, body in container_bodies(data):
        value = body.get("memory") if isinstance(body, dict) else None
        if value is None or isinstance(value, bool):
            continue
        try:
            mib = parse_memory(value)
        except Exception:  # noqa: BLE001 - a malformed value is the model's to report
            continue
        if isinstance(mib, int) and 0 < mib < DEFAULT_MEMORY_MIB:
            findings.append(
                Finding(
                    (*path, "memory"),
                    f"{mib} MiB is less than Modal's default reservation ({DEFAULT_MEMORY_MIB} MiB)",
                    hint=f'memory is counted in MiB: did you mean "{mib}GiB"?',
                    severity="warning",
                )
            )
    return findings
