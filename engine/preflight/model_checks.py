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

from engine.blueprint.model import Blueprint, ModelSpec
from engine.preflight.fit import GIB, UnknownSizeError, gpu_memory_bytes
from engine.preflight.probes import HubProbe, NotOnHub, Unavailable

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
Guard = Callable[[str, Callable[[], tuple[str, str]]], Any]


def model_checks(blueprint: Blueprint, hub: HubProbe | Unavailable, guarded: Guard) -> Iterator[Any]:
    functions = {f.key: f for f in blueprint.functions}
    sizes: dict[str, int | None] = {}  # model key -> bytes, once its hub check has run
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
