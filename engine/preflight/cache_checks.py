"""Preflight of the weights' cache volumes: does each volume already hold the pinned revision?

A hub model is cached in a volume in huggingface_hub's cache layout, at the pinned snapshot's
folder `.../hub/models--ORG--NAME/snapshots/REVISION`. When that folder is there, a cold start
reads the weights from the volume; when it is not, the first cold start downloads them. What is
checked, once per (volume, folder):

- each `models:` entry with a hub repo that something reads from a volume (`ModelSpec.volume`
  set; a model every user reads from an image that holds it has none): its volume and
  `ModelSpec.folder`, which the prefetch function fills (`mdeploy run --remote MANIFEST prefetch-models`);
- each llm server's own hub model whose Hugging Face cache is in a volume: the volume its
  container mounts at huggingface_hub's cache folder (HF_HUB_CACHE, else HF_HOME/hub, else
  ~/.cache/huggingface/hub with Modal's containers' home, /root), and the snapshot's folder below
  that mount. A server whose `model:` is a `models:` key has the entry's volume there, the same
  folder: it is checked once, as the entry. A server whose cache is off has nothing to check.

Modal is asked through the probe (probes.ModalProbe.folder_entries: the volume by its Modal name
in the deploy's environment, then one listing of the snapshot folder). Each answer is one line:
pass "cached in volume V (revision R)"; warn "not cached" or "volume V does not exist yet", with
what the first cold start downloads (the size from the Hub, when it answers) and how to fetch it
ahead; skip "cannot tell: WHY" without credentials or network, or when Modal's answer is an
error. The check is advisory: it never fails a preflight.

A snapshot folder with entries is compared with the Hub's list of the files the download takes
(when the Hub answers): an interrupted prefetch left some of them, and that is "partly cached",
naming what is missing (running the prefetch again fetches only that). The folder is listed one
level deep, so a file in a subfolder (`1_Pooling/config.json`) is looked for by its first folder.
Without the Hub a folder with entries counts as cached, and the message says it was not compared.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from engine.blueprint.model import PREFETCH_HANDLER, Blueprint, ServerSpec
from engine.preflight.fit import GIB
from engine.preflight.probes import HubProbe, ModalProbe, NotOnHub, Unavailable

PASS, WARN, SKIP = "pass", "warn", "skip"
Guard = Callable[[str, Callable[[], tuple[str, str]]], Any]

# Modal runs a container's process as root: huggingface_hub's `~/.cache` is /root/.cache there.
CONTAINER_CACHE_HOME = "/root/.cache"
# What an engine downloads of a repository, for the size of a server's first cold start: the
# safetensors weights and the JSON configs beside them (not a repo's other formats, e.g. .pth).
SERVER_DOWNLOAD_PATTERNS = ("*.safetensors", "*.json")


@dataclass(frozen=True)
class CachedModel:
    """One hub model's snapshot folder in one volume, and what to say about it."""

    check: str  # "cache KEY": a models: key, or a server's
    repo: str
    revision: str
    volume: str  # key of Blueprint.volumes
    folder: str  # the snapshot's folder below the volume's root
    patterns: tuple[str, ...]  # the files the first cold start downloads; () all
    model_key: str | None = None  # the models: entry (its size from the Hub check), None for a server's own
    server: str | None = None  # the server whose own model it is


def cached_models(blueprint: Blueprint) -> list[CachedModel]:
    """Every hub model of the deploy that is cached in a volume, each (volume, folder) once."""
    found: dict[tuple[str, str], CachedModel] = {}
    for model in blueprint.models:
        if model.repo is None or model.revision is None or not model.used_by:
            continue
        if model.volume is None:
            continue  # every user reads it from an image that holds it (ModelSpec.images), no volume
        target = CachedModel(
            f"cache {model.key}",
            model.repo,
            model.revision,
            model.volume,
            model.folder,
            model.allow_patterns,
            model_key=model.key,
        )
        found.setdefault((target.volume, target.folder), target)
    for server in blueprint.servers:
        own = _server_cache(blueprint, server)
        if own is not None:
            found.setdefault((own.volume, own.folder), own)
    return list(found.values())


def _server_cache(blueprint: Blueprint, server: ServerSpec) -> CachedModel | None:
    if server.kind != "llm" or server.revision is None or server.model.startswith(("/", ".")):
        return None
    hub = hub_cache_folder(_container_env(blueprint, server))
    mounts = [
        m
        for m in server.container.mounts
        if m.kind == "volume" and (hub == m.path.rstrip("/") or hub.startswith(m.path.rstrip("/") + "/"))
    ]
    if not mounts:
        return None  # the cache is off (or outside every volume): nothing is kept between starts
    mount = max(mounts, key=lambda m: len(m.path))
    below = posixpath.relpath(hub, mount.path.rstrip("/") or "/")
    folder = posixpath.normpath(
        posixpath.join(below, f"models--{server.model.replace('/', '--')}", "snapshots", server.revision)
    )
    return CachedModel(
        f"cache {server.key}",
        server.model,
        server.revision,
        mount.source,
        folder,
        SERVER_DOWNLOAD_PATTERNS,
        server=server.key,
    )


def _container_env(blueprint: Blueprint, server: ServerSpec) -> dict[str, str]:
    """The container's environment as huggingface_hub reads it: its image's env steps, then the
    container's own env over them."""
    env: dict[str, str] = {}
    image = next((i for i in blueprint.images if i.key == server.container.image), None)
    for step in image.steps if image else ():
        if step.op == "env" and step.env:
            env.update(step.env)
    env.update(server.container.env)
    return env


def hub_cache_folder(env: Mapping[str, str]) -> str:
    """Where huggingface_hub in the container keeps downloads (its own rule, in the container)."""
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(name):
            return posixpath.normpath(env[name])
    home = env.get("HF_HOME") or posixpath.join(env.get("XDG_CACHE_HOME") or CONTAINER_CACHE_HOME, "huggingface")
    return posixpath.normpath(posixpath.join(home, "hub"))


def cache_checks(
    blueprint: Blueprint,
    modal: ModalProbe | Unavailable,
    hub: HubProbe | Unavailable,
    sizes: Mapping[str, int | None],
    guarded: Guard,
) -> Iterator[Any]:
    """One result per cached model. `sizes`: the models: entries' sizes the Hub checks found."""
    names = {v.key: v for v in blueprint.volumes}
    prefetch = next((f.key for f in blueprint.functions if f.handler == PREFETCH_HANDLER), None)
    for target in cached_models(blueprint):
        volume = names.get(target.volume)
        if volume is None:
            continue  # validation reported it
        if isinstance(modal, Unavailable):
            yield guarded(target.check, partial(_cannot_tell, modal.reason))
            continue

        def body(
            target: CachedModel = target, name: str = volume.name, create: bool = volume.create_if_missing
        ) -> tuple[str, str]:
            try:
                entries = modal.folder_entries(name, blueprint.environment, target.folder)
            except Unavailable as exc:
                return _cannot_tell(exc.reason)
            ahead = _fetch_ahead(blueprint, target, prefetch)
            if entries:
                return _held(target, name, entries, hub, ahead)
            download = _download(target, hub, sizes)
            if entries is None and create:
                return WARN, (
                    f"volume {name!r} does not exist yet (it is created at deploy): "
                    f"the first cold start downloads {download}; {ahead}"
                )
            if entries is None:
                return WARN, (
                    f"volume {name!r} does not exist, and the deploy does not create it "
                    f"(see the volume {target.volume} check)"
                )
            return WARN, f"not cached in volume {name!r}: the first cold start downloads {download}; {ahead}"

        yield guarded(target.check, body)


def _held(
    target: CachedModel, name: str, entries: tuple[str, ...], hub: HubProbe | Unavailable, ahead: str
) -> tuple[str, str]:
    """A snapshot folder with entries: cached when it holds every file the download takes."""
    cached = f"cached in volume {name!r} (revision {target.revision}, {len(entries)} entries)"
    if isinstance(hub, Unavailable):
        return PASS, f"{cached}; not compared with the Hub's file list: {hub.reason}"
    files_of = getattr(hub, "files", None)
    if files_of is None:
        return PASS, cached
    try:
        expected: tuple[str, ...] = files_of(target.repo, target.revision, target.patterns)
    except Unavailable as exc:
        return PASS, f"{cached}; not compared with the Hub's file list: {exc.reason}"
    except NotOnHub as exc:
        return PASS, f"{cached}; not compared with the Hub's file list: {exc}"
    held = set(entries)
    missing = sorted({path for path in expected if path.split("/", 1)[0] not in held})
    if not missing:
        return PASS, cached
    shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
    return WARN, (
        f"partly cached in volume {name!r} (revision {target.revision}): {len(missing)} of {len(expected)} "
        f"files missing ({shown}), e.g. an interrupted prefetch; the first cold start downloads them; {ahead}"
    )


def _cannot_tell(reason: str) -> tuple[str, str]:
    return SKIP, f"cannot tell: {reason}"


def _download(target: CachedModel, hub: HubProbe | Unavailable, sizes: Mapping[str, int | None]) -> str:
    """What the first cold start downloads: its size, when the Hub says."""
    size: int | None = None
    why = "the Hub did not say"
    if target.model_key is not None:
        size = sizes.get(target.model_key)  # set by the entry's Hub check when it passed
        if target.model_key not in sizes and isinstance(hub, Unavailable):
            why = hub.reason
    elif isinstance(hub, Unavailable):
        why = hub.reason
    elif (size_of := getattr(hub, "size", None)) is not None:
        try:
            size = size_of(target.repo, target.revision, target.patterns) or None
        except Unavailable as exc:
            why = exc.reason
        except NotOnHub as exc:
            why = str(exc)
    if size is None:
        return f"{target.repo}'s weights (size unknown: {why})"
    return f"{size / GIB:.1f} GiB of {target.repo}"


def _fetch_ahead(blueprint: Blueprint, target: CachedModel, prefetch: str | None) -> str:
    if target.model_key is not None and prefetch is not None:
        command = f"mdeploy run --remote {blueprint.source} {prefetch} --env {blueprint.environment}"
        return f"run `{command}` (once the app is deployed) to fetch it ahead"
    return (
        f"to fetch it ahead, declare it under `models:` (id, revision, a volume) and write "
        f"`model: KEY` in service {target.server}: the prefetch function then fetches it (docs/models.md)"
    )
