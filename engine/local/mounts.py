"""Volume and bucket mounts on this machine: each becomes a folder under the project's `.mdeploy/`.

In a container a volume appears at its mount path (`/root/.cache/huggingface`); locally that path
is not ours to write, so it maps to `.mdeploy/volumes/NAME` (NAME: the Modal volume name, so two
manifests sharing a cache volume share the local folder too). Arguments and environment values
that point into a mount path are rewritten to the local folder. A bucket cannot be mounted here:
it maps to an empty `.mdeploy/buckets/KEY` folder, which the runner reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.blueprint.model import Blueprint, ContainerSpec, MountKind
from engine.local.state import state_folder

# Hugging Face libraries find their cache through HF_HOME; Modal manifests mount the cache here.
HF_CACHE_SUFFIX = ".cache/huggingface"


@dataclass(frozen=True)
class LocalMount:
    container_path: str
    local_path: Path
    kind: MountKind


def local_mounts(blueprint: Blueprint, container: ContainerSpec, root: Path) -> list[LocalMount]:
    """Every mount of `container` with its local folder under `root/.mdeploy/` (`root`: see
    `engine.local.state.local_root`; not created, see `create_mount_folders`)."""
    volume_names = {volume.key: volume.name for volume in blueprint.volumes}
    mounts = []
    for mount in container.mounts:
        if mount.kind == "volume":
            local = state_folder(root, "volumes", volume_names.get(mount.source, mount.source))
        else:
            local = state_folder(root, "buckets", mount.source)
        mounts.append(LocalMount(mount.path, local.resolve(), mount.kind))
    return mounts


def create_mount_folders(mounts: list[LocalMount]) -> None:
    for mount in mounts:
        mount.local_path.mkdir(parents=True, exist_ok=True)


def rewrite_path(value: str, mounts: list[LocalMount]) -> str:
    """`value` with a leading mount path replaced by its local folder; `--flag=/path` forms too."""
    flag, sep, rest = value.partition("=")
    if sep and flag.startswith("-"):
        return f"{flag}={rewrite_path(rest, mounts)}"
    mount = mount_of(value, mounts)
    if mount is None:
        return value
    return str(mount.local_path) + value[len(mount.container_path.rstrip("/")) :]


def mount_of(path: str, mounts: list[LocalMount]) -> LocalMount | None:
    """The mount whose path is `path` or above it; the longest, so /models/base wins over /models."""
    for mount in sorted(mounts, key=lambda m: len(m.container_path), reverse=True):
        root = mount.container_path.rstrip("/")
        if path == root or path.startswith(root + "/"):
            return mount
    return None


def hf_home(mounts: list[LocalMount]) -> Path | None:
    """The local folder of a mounted Hugging Face cache, if the container mounts one."""
    for mount in mounts:
        if mount.kind == "volume" and mount.container_path.rstrip("/").endswith(HF_CACHE_SUFFIX):
            return mount.local_path
    return None
