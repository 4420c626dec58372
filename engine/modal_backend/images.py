"""ImageSpec -> `modal.Image`: the base, then every build step in the Blueprint's order.

Every image also gets the local Python sources the container imports: the `engine` package
(`modal deploy engine/entry.py` ships only entry.py, and entry.py imports `engine`) and the
top-level packages of the handlers that run on it. They are added last, in one
`add_local_python_source` call, because Modal forbids build steps after files it mounts at
container start. Names the planner already listed as steps are not added twice.

Only lazy constructors: building an image object does no I/O until Modal loads it.
"""

from __future__ import annotations

from collections.abc import Iterable

import modal

from engine.blueprint.model import Blueprint, ImageSpec, ImageStep

ENGINE_PACKAGE = "engine"
_ADD_SOURCE_OP = "add_local_python_source"


def handler_package(handler: str) -> str:
    """The top-level package of a handler reference "pkg.mod:attr" -> "pkg"."""
    module = handler.partition(":")[0]
    return module.split(".")[0]


def python_sources_by_image(blueprint: Blueprint) -> dict[str, tuple[str, ...]]:
    """For each image key, the local packages its containers import: engine, then handler packages
    in the order the functions appear (deterministic, no duplicates)."""
    sources: dict[str, list[str]] = {image.key: [ENGINE_PACKAGE] for image in blueprint.images}
    for function in blueprint.functions:
        names = sources.setdefault(function.container.image, [ENGINE_PACKAGE])
        package = handler_package(function.handler)
        if package not in names:
            names.append(package)
    return {key: tuple(names) for key, names in sources.items()}


def build_image(spec: ImageSpec, python_sources: Iterable[str] = (ENGINE_PACKAGE,)) -> modal.Image:
    image = _base_image(spec)
    added: list[str] = []
    for step in spec.steps:
        if step.op == _ADD_SOURCE_OP:
            new = [name for name in step.args if name not in added]
            if new:
                image = image.add_local_python_source(*new)
                added.extend(new)
            continue
        image = _apply_step(image, step, spec.key)
    remaining = [name for name in python_sources if name not in added]
    if remaining:
        image = image.add_local_python_source(*remaining)
    return image


def build_images(blueprint: Blueprint) -> dict[str, modal.Image]:
    sources = python_sources_by_image(blueprint)
    return {spec.key: build_image(spec, sources[spec.key]) for spec in blueprint.images}


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
    raise ValueError(f"image {image_key!r}: unknown build step {op!r}")
