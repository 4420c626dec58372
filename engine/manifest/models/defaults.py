"""`defaults`: values every service and function inherits unless it sets them itself.

Scalars are replaced by the object's own value; `secrets` are a union (defaults first); `env`,
`volumes` and `buckets` are merged under the object's own (the object wins on a shared key);
`caches` (llm services) likewise, a whole entry per cache name.
The planner applies the inheritance; this model only says what may be inherited.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from engine.manifest.models.base import StrictModel
from engine.manifest.models.caches import DefaultCacheSettings
from engine.manifest.models.container import (
    BucketMounts,
    Cloud,
    ImageKey,
    Region,
    ScaledownWindow,
    SecretKeys,
    Timeout,
    VolumeMounts,
    refuse_null_timeout,
)
from engine.manifest.models.images import EnvMap
from engine.manifest.models.resources import Cpu, MemoryMiB


class Defaults(StrictModel):
    """What services and functions inherit."""

    image: ImageKey = None
    region: Region = None
    cloud: Cloud = None
    timeout: Annotated[
        Timeout,
        Field(description='Default `timeout` of functions and web services, e.g. "10m"; llm services have none.'),
    ] = None
    cpu: Annotated[Cpu | None, Field(description="CPU cores to reserve.")] = None
    memory: Annotated[MemoryMiB | None, Field(description='Memory to reserve: MiB, or "16GiB".')] = None
    secrets: SecretKeys = ()
    env: EnvMap = {}
    volumes: VolumeMounts = {}
    buckets: BucketMounts = {}
    scaledown_window: ScaledownWindow = None
    caches: DefaultCacheSettings = {}

    _timeout_not_null = field_validator("timeout", mode="before")(refuse_null_timeout)
