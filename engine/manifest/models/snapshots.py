"""`memory_snapshot`: start containers from a memory snapshot of a started one, one spelling for
every object that takes it (llm services and `kind: cls` functions).

`true` is the shorthand of `{enabled: true}`; `{gpu: true}` also snapshots GPU memory (Modal's
experimental GPU snapshots, `experimental_options={"enable_gpu_snapshot": True}`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from engine.manifest.models.base import StrictModel, fail


def _snapshot_shorthand(value: Any) -> Any:
    if isinstance(value, bool):
        return {"enabled": value}
    if not isinstance(value, dict | MemorySnapshot):  # e.g. `yes`, a string in YAML 1.2
        raise fail(f"expected true, false or a mapping {{enabled, gpu}}, got {value!r}", hint="write true or false")
    return value


class MemorySnapshot(StrictModel):
    """Start from a memory snapshot of a started container (Modal's low-latency pattern)."""

    enabled: Annotated[
        bool, Field(description="Snapshot CPU memory once the container has started (and warmed up).")
    ] = True
    gpu: Annotated[bool, Field(description="Also snapshot GPU memory (Modal's experimental GPU snapshots).")] = False

    @model_validator(mode="after")
    def _check(self) -> MemorySnapshot:
        if self.gpu and not self.enabled:
            raise fail("a GPU snapshot needs the memory snapshot", hint="set enabled: true or gpu: false", at=("gpu",))
        return self


SnapshotField = Annotated[
    MemorySnapshot,
    BeforeValidator(_snapshot_shorthand, json_schema_input_type=bool | MemorySnapshot),
    Field(description="`true`, or {enabled, gpu}. Default: off."),
]

__all__ = ["MemorySnapshot", "SnapshotField"]
