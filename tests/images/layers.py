"""A built `modal.Image` read back offline as its layers, root first.

Modal keeps each layer lazily: the closure of the image's loader holds the base image and either
the Dockerfile commands (a function of the builder version), a context mount (a copied file or
folder), a build function (`run_function`), or, for files added at container start, the mount.
Read from the installed modal 1.6.4 (`modal/_image.py`: `_from_args`, `_add_mount_layer_or_copy`).
"""

from __future__ import annotations

from typing import Any

import modal
from modal._utils.async_utils import synchronizer

BUILDER_VERSION = "2025.06"


def _cells(fn: Any) -> dict[str, Any]:
    return dict(zip(fn.__code__.co_freevars, (c.cell_contents for c in fn.__closure__ or ())))


def _entries(mount: Any) -> list[str]:
    """A mount's entries as `local -> remote` (files, folders with their ignore, Python packages)."""
    shown = []
    for entry in mount._entries:
        if hasattr(entry, "local_file"):
            shown.append(f"file {entry.local_file} -> {entry.remote_path}")
        elif hasattr(entry, "local_dir"):
            shown.append(f"dir {entry.local_dir} -> {entry.remote_path}")
        else:
            shown.append(f"package {entry.module_name}")
    return shown


def layers(image: modal.Image) -> list[dict[str, Any]]:
    found = []
    current = synchronizer._translate_in(image)
    while current is not None:
        cells = _cells(current._load)
        if "mount" in cells:  # added when the container starts
            found.append({"mounted": _entries(cells["mount"])})
            current = cells["base_image"]
            continue
        layer: dict[str, Any] = {}
        if cells.get("dockerfile_function") is not None:
            layer["commands"] = list(cells["dockerfile_function"](BUILDER_VERSION).commands)
        if cells.get("context_mount_function") is not None:
            context = cells["context_mount_function"](BUILDER_VERSION)
            if context is not None:
                layer["copied"] = _entries(context)
        if cells.get("build_function") is not None:
            fn = _cells(cells["build_function"]._load)
            info = fn["info"]
            layer["builder"] = {
                "function": info.raw_f,
                "name": info.implementation_name,
                "gpu": fn["gpu"],
                "secrets": [repr(s) for s in fn["secrets"]],
                "timeout": fn["timeout"],
                "cpu": fn["cpu"],
                "memory": fn["memory"],
                "volumes": [(str(path), repr(volume)) for path, volume in fn["validated_volumes_no_cloud_buckets"]],
            }
        found.append(layer)
        bases = cells.get("base_images") or {}
        current = bases.get("base")
    return list(reversed(found))
