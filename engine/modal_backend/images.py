"""ImageSpec -> `modal.Image`: the base, then every build step in the Blueprint's order.

The planner lists the local Python sources each image carries (the `engine` package, which
entry.py imports, and the handlers' packages) as its last `add_local_python_source` step; this
module adds nothing of its own, so the image is exactly what `mdeploy plan` shows.

Only lazy constructors: building an image object does no I/O until Modal loads it.
"""

from __future__ import annotations

from collections.abc import Callable

import modal

from engine.blueprint.model import Blueprint, ImageSpec, ImageStep
from engine.modal_backend.calls import building


def build_image(spec: ImageSpec) -> modal.Image:
    with building(("images", spec.key), "Image"):
        image = _base_image(spec)
    for index, step in enumerate(spec.steps):
        with building(("images", spec.key, "steps", index), "Image step"):
            image = _apply_step(image, step, spec.key)
    return image


def build_images(
    blueprint: Blueprint, build: Callable[[ImageSpec], modal.Image] = build_image
) -> dict[str, modal.Image]:
    """Every image of `blueprint`, by key; `build` is build_image, or the offline check's
    memo of it (offline_build.py)."""
    return {spec.key: build(spec) for spec in blueprint.images}


def _base_image(spec: ImageSpec) -> modal.Image:
    if spec.base == "debian_slim":
        image = modal.Image.debian_slim(python_version=spec.python_version)
    elif spec.base == "registry":
        if not spec.registry_ref:
            raise ValueError(f"image {spec.key!r}: a registry base needs registry_ref")
        image = modal.Image.from_registry(spec.registry_ref, add_python=spec.python_version)
    else:
        raise ValueError(f"image {spec.key!r}: unknown base {spec.base!r} (debian_slim | registry)")
    if spec.clear_entrypoint:
        # NVIDIA images print a banner and run their own entrypoint otherwise.
        image = image.entrypoint([])
    return image


def _apply_step(image: modal.Image, step: ImageStep, image_key: str) -> modal.Image:
    op = step.op
    if op == "apt_install":
        return image.apt_install(*step.args)
    if op in ("pip_install", "uv_pip_install"):
        install = image.pip_install if op == "pip_install" else image.uv_pip_install
        return install(*step.args, index_url=step.index_url, extra_index_url=step.extra_index_url)
    if op == "run_commands":
        return image.run_commands(*step.args)
    if op == "env":
        return image.env(dict(sorted(step.env.items())))
    if op == "workdir":
        (path,) = step.args
        return image.workdir(path)
    if op == "add_local_python_source":
        return image.add_local_python_source(*step.args)
    raise ValueError(f"image {image_key!r}: unknown build step {op!r}")
