"""`caches:` of an llm service: the engine's cache volumes, each renamed, moved or turned off.

The keys are the engine's cache names (`huggingface`, `vllm`, `deepgemm`, `trtllm`); the
manifest package knows no engine, so the planner checks them against the engine it serves with
(planner/caches.py). `false` turns a cache off (no volume, no mount); `true` or `{}` keeps the
engine's own.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag

from engine.manifest.models.base import StrictModel
from engine.manifest.models.shorthands import ModalName, MountPath


class CacheSetting(StrictModel):
    """One cache volume of the engine, as the service wants it."""

    volume: Annotated[
        ModalName | None,
        Field(
            description="Modal name of the volume that holds this cache (created if missing; a `volumes` entry of that name is reused). Default: the engine's, e.g. huggingface-cache."
        ),
    ] = None
    path: Annotated[
        MountPath | None,
        Field(
            description="Where the volume is mounted; the engine's variable for this cache (HF_HOME, VLLM_CACHE_ROOT, ...) points there. Default: the engine's, e.g. /root/.cache/vllm."
        ),
    ] = None


def _setting_form(value: Any) -> str:
    """One form reported, not both: a mapping is the setting, anything else the switch."""
    return "setting" if isinstance(value, dict) else "switch"


CacheValue = Annotated[
    Annotated[CacheSetting, Tag("setting")] | Annotated[bool, Tag("switch")],
    Discriminator(_setting_form),
]

CacheSettings = Annotated[
    dict[str, CacheValue],
    Field(
        description="The engine's cache volumes by name (huggingface; vllm, deepgemm or trtllm): {volume, path} to rename or move one, false to turn it off. A volume of yours in `volumes` at a cache's path serves as that cache."
    ),
]

DefaultCacheSettings = Annotated[
    dict[str, CacheValue],
    Field(
        description="`caches` every llm service inherits, by cache name; a service's own entry for a name replaces this one, and an engine without the cache skips it. A service whose model is a `models` key keeps that model's volume as its huggingface cache."
    ),
]
