"""Preflight of the `models:` section: each hub model's pinned revision exists, its size (the
files it fetches), and whether the weights fit the GPU memory of each function that loads them.

An llm service that names a model by key is checked as a server already (checks.py: its model
and fit checks read the ServerSpec, which is the same as the inline form's); here a model is
checked once, and its fit against the functions in `used_by`, whose handlers load it whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from engine.blueprint.model import Blueprint, ModelSpec, ServerSpec
from engine.preflight.fit import GIB, UnknownSizeError, gpu_memory_bytes
from engine.preflight.probes import HubProbe, NotOnHub, Unavailable

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
Guard = Callable[[str, Callable[[], tuple[str, str]]], Any]


def model_checks(
    blueprint: Blueprint, hub: HubProbe | Unavailable, guarded: Guard, sizes: dict[str, int | None] | None = None
) -> Iterator[Any]:
    """`sizes` (model key -> bytes, once its hub check has passed) is filled as the checks run,
    for the cache checks that follow (cache_checks.py)."""
    functions = {f.key: f for f in blueprint.functions}
    sizes = {} if sizes is None else sizes
    for model in blueprint.models:
        if model.repo is None:
            yield guarded(f"models {model.key}", partial(_path_model, model))
            continue
        yield guarded(f"models {model.key}", partial(_hub_model, model, hub, sizes))
        for user in model.used_by:
            kind, _, key = user.partition(".")
            function = functions.get(key) if kind == "functions" else None
            if function is not None:
                gpus = function.container.gpu
                yield guarded(f"fit {model.key} in {key}", partial(_fit, model, gpus, sizes))
    models = {m.key: m for m in blueprint.models}
    for server in blueprint.servers:
        if server.lora_adapters:
            yield guarded(f"adapters {server.key}", partial(_adapters, server, models, sizes))


def _adapters(server: ServerSpec, models: dict[str, ModelSpec], sizes: dict[str, int | None]) -> tuple[str, str]:
    """A note on the memory LoRA adapters take: the engine loads them into its share of the GPU,
    beside the base model's weights (the server's fit check), so they take from the KV cache. The
    sizes of hub adapters are the Hub's; a folder in a volume is not readable from here."""
    parts, total = [], 0
    for adapter in server.lora_adapters:
        size = sizes.get(adapter.model) if models[adapter.model].repo is not None else None
        parts.append(f"{adapter.name} {size / GIB:.2f} GiB" if size is not None else f"{adapter.name} (size unknown)")
        total += size or 0
    note = f"{', '.join(parts)}: loaded beside the weights, in the engine's share of GPU memory (less KV cache)"
    for gpu in server.container.gpu:
        try:
            kind, count, gpu_bytes = gpu_memory_bytes(gpu)
        except UnknownSizeError:
            continue
        if total > gpu_bytes * server.memory_utilization:
            return FAIL, f"{note}; {total / GIB:.1f} GiB exceed the engine's share of {kind}:{count}"
    return PASS, note


def _path_model(model: ModelSpec) -> tuple[str, str]:
    return SKIP, f"folder {model.folder} of volume {model.volume} is read in the container, not from here"


def _hub_model(model: ModelSpec, hub: HubProbe | Unavailable, sizes: dict[str, int | None]) -> tuple[str, str]:
    if isinstance(hub, Unavailable):
        raise hub
    assert model.repo is not None
    try:
        hub.check_revision(model.repo, model.revision)
    except NotOnHub as exc:
        return FAIL, str(exc)
    size_of = getattr(hub, "size", None)
    size = size_of(model.repo, model.revision, model.allow_patterns) if size_of else None
    sizes[model.key] = size
    shown = f", {size / GIB:.1f} GiB to fetch" if size is not None else ""
    return PASS, f"{model.repo} exists at revision {model.revision}{shown}"


def _fit(model: ModelSpec, gpus: tuple[str, ...], sizes: dict[str, int | None]) -> tuple[str, str]:
    if not gpus:
        return SKIP, "no GPU requested"
    size = sizes.get(model.key)
    if size is None:
        return SKIP, "the model's size is not known (the Hub did not say)"
    verdicts = []
    for gpu in gpus:
        try:
            kind, count, total = gpu_memory_bytes(gpu)
        except UnknownSizeError as exc:
            return SKIP, str(exc)
        where = f"{kind}:{count} ({total / GIB:.0f} GiB)"
        if size > total:
            verdicts.append((FAIL, f"weights {size / GIB:.1f} GiB exceed {where}: they cannot be loaded"))
        else:
            verdicts.append((PASS, f"weights {size / GIB:.1f} GiB fit in {where}"))
    return min(verdicts, key=lambda v: {FAIL: 0, PASS: 1}[v[0]])
