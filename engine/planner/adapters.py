"""An llm service's `adapters:` -> `AdapterSpec`s: the LoRA adapters its engine loads at start.

Each adapter is a `models:` entry. Its weights are read from the entry's cache volume, at the
pinned snapshot's folder (huggingface_hub's cache layout, or the entry's `path`), which the
prefetch function fills: the engine never downloads an adapter, so its path is known when the
command is written. The volume is mounted where the server already has it (the service's own
mount, or the engine's Hugging Face cache when the volume is that cache), else at the models'
mount root, once per volume. The adapter's name joins the names the server answers to.
"""

from __future__ import annotations

from engine.blueprint.model import AdapterSpec, MountSpec
from engine.engines.common import HF_CACHE, Engine
from engine.manifest.models.adapters import adapter_items
from engine.manifest.models.llm import LlmService
from engine.planner.context import PlanContext
from engine.planner.models import _mounted_at, default_mount, model_folder, service_hub_cache
from engine.planner.origins import KeyPath


def _engine_cache_path(ctx: PlanContext, key: str, svc: LlmService, engine: Engine, volume: str) -> str | None:
    """Where the server mounts `volume` as one of the engine's caches (planner_services' cache
    mounts): the Hugging Face cache of a service whose model is a hub key is that model's volume;
    a declared volume with a cache's Modal name is that cache."""
    defaults = ctx.manifest.defaults
    user_paths = {*defaults.volumes, *defaults.buckets, *svc.volumes, *svc.buckets}
    hub = service_hub_cache(ctx, key)
    declared = ctx.manifest.volumes.get(volume)
    for cache in engine.caches:
        if cache.path in user_paths:
            continue
        if hub is not None and cache.name == HF_CACHE.name:
            if hub == volume:
                return cache.path
            continue
        if declared is not None and declared.resolved_name(volume) == cache.name:
            return cache.path
    return None


def plan_adapters(
    ctx: PlanContext, key: str, svc: LlmService, engine: Engine
) -> tuple[tuple[AdapterSpec, ...], list[MountSpec]]:
    """(the adapters, the mounts they add) of llm service `key`; problems reported on ctx."""
    path, at, rec = ("services", key), ("servers", key, "lora_adapters"), ctx.origins
    items = adapter_items(svc.adapters)
    if not items:
        rec.unset(at, "no `adapters:`")
        return (), []
    if not engine.supports_lora:
        ctx.report(
            (*path, "adapters"),
            f"{engine.name} cannot load LoRA adapters as mdeploy launches it",
            "use engine vllm or sglang, or merge the adapter into the model's weights and serve that",
        )
        return (), []
    rec.manifest(at, (*path, "adapters"), parts=True)
    adapters: list[AdapterSpec] = []
    mounts: list[MountSpec] = []
    taken = {*svc.volumes, *svc.buckets, *ctx.manifest.defaults.volumes, *ctx.manifest.defaults.buckets}
    for index, (name, model_key, below) in enumerate(items):
        entry = ctx.manifest.models.get(model_key)
        if entry is None:
            continue  # validation reported it, with a did-you-mean
        if entry.volume is None:
            ctx.report(
                (*path, "adapters", *below),
                f"adapter {name!r} (model {model_key!r}) has no `volume`: the engine reads an adapter "
                "from the model's cache volume",
                f"name its cache volume: models.{model_key}.volume (the base model's volume serves)",
            )
            continue
        ctx.model_uses.add(model_key, f"servers.{key}")  # so the prefetch fetches it
        where = _engine_cache_path(ctx, key, svc, engine, entry.volume) or _mounted_at(ctx, svc, entry.volume)
        if where is None:
            where = default_mount(entry.volume)
            if where in taken:
                ctx.report(
                    (*path, "adapters", *below),
                    f"adapter {name!r} would mount volume {entry.volume!r} at {where}, where something else is mounted",
                    f"mount volume {entry.volume!r} yourself (volumes: {{/some/path: {entry.volume}}}); the adapter is found there",
                )
                continue
            if all(m.source != entry.volume for m in mounts):
                mounts.append(MountSpec(path=where, kind="volume", source=entry.volume))
        rec.manifest((*at, index), (*path, "adapters", *below), parts=True)
        rec.manifest((*at, index, "name"), (*path, "adapters", *below))
        rec.manifest((*at, index, "model"), (*path, "adapters", *below))
        rec.planner(
            (*at, index, "path"),
            None,
            [("models", model_key, "volume"), ("models", model_key, "revision"), ("models", model_key, "path")],
            note="the pinned snapshot in the model's mounted cache volume",
        )
        adapters.append(AdapterSpec(name=name, model=model_key, path=f"{where}/{model_folder(entry)}"))
    return tuple(adapters), mounts


def with_adapter_names(
    ctx: PlanContext,
    key: str,
    svc: LlmService,
    engine: Engine,
    base_names: tuple[str, ...],
    adapters: tuple[AdapterSpec, ...],
) -> tuple[str, ...]:
    """ServerSpec.served_names: the base model's names, then each adapter's. An adapter may not
    answer to a name the base model answers to: which would a request get?"""
    for name, model_key, below in adapter_items(svc.adapters):
        if name in base_names:
            ctx.report(
                ("services", key, "adapters", *below),
                f"adapter name {name!r} is also a name of the base model: requests for it would be ambiguous",
                f"serve the adapter under another name (the mapping form: adapters: {{other-name: {model_key}}})",
            )
    if not adapters:
        return base_names
    recorded = ctx.origins.entries.get(("servers", key, "served_names"))
    inputs = [s.key for s in recorded.sources] if recorded is not None else []
    ctx.origins.engine(("servers", key, "served_names"), engine.name, [*inputs, ("services", key, "adapters")])
    return (*base_names, *(adapter.name for adapter in adapters))


def with_adapter_mounts(model_mounts: list[MountSpec], adapter_mounts: list[MountSpec]) -> list[MountSpec]:
    """The base model's mounts, then the adapters' volumes that it does not mount already."""
    sources = {m.source for m in model_mounts}
    return [*model_mounts, *(m for m in adapter_mounts if m.source not in sources)]


def adapter_inputs(path: KeyPath, svc: LlmService) -> dict[str, tuple[bool, list[KeyPath]]]:
    """The command's launch inputs (planner_services._launch_inputs) of the adapters: each one's
    name and path, with the manifest keys they come from, so the plan shows the argv element
    that holds them as derived from those keys (a `${VAR}` of them is shown as the reference)."""
    inputs: dict[str, tuple[bool, list[KeyPath]]] = {}
    for index, (_name, model_key, below) in enumerate(adapter_items(svc.adapters)):
        entry = ("models", model_key)
        inputs[f"lora_adapters.{index}.name"] = (False, [(*path, "adapters", *below)])
        inputs[f"lora_adapters.{index}.path"] = (
            False,
            [(*entry, "volume"), (*entry, "id"), (*entry, "revision"), (*entry, "path")],
        )
    return inputs
