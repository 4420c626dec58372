"""Image recipes -> `ImageSpec`s with explicit, ordered build steps.

Only images some service or function uses are planned (Modal builds nothing else either), in
manifest order, then the engine default images in order of first use. Every image ends with one
`add_local_python_source` step: `engine` (the container imports the entry module's package),
the image's own `python_sources`, then the handler packages of the objects that run on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from engine.blueprint.model import ImageSpec, ImageStep
from engine.blueprint.planner_container import first, union
from engine.blueprint.planner_defaults import ENGINE_PACKAGE, IMAGE_INSTALLER, IMAGE_PYTHON_VERSION, REGISTRY_CLEAR_ENTRYPOINT


def handler_package(import_path: str) -> str:
    """`workloads.pipeline:run` -> `workloads` (the top-level package Modal must ship)."""
    return import_path.split(":", 1)[0].split(".", 1)[0]


def image_from_recipe(key: str, image: Any) -> ImageSpec:
    steps: list[ImageStep] = []
    if image.apt:
        steps.append(ImageStep(op="apt_install", args=tuple(image.apt)))
    if image.pip:
        op = "uv_pip_install" if first(image.installer, IMAGE_INSTALLER) == "uv" else "pip_install"
        steps.append(
            ImageStep(op=op, args=tuple(image.pip), index_url=image.index_url, extra_index_url=image.extra_index_url)
        )
    if image.env:
        steps.append(ImageStep(op="env", env=dict(image.env)))
    if image.run:
        steps.append(ImageStep(op="run_commands", args=tuple(image.run)))
    if image.workdir:
        steps.append(ImageStep(op="workdir", args=(image.workdir,)))
    if image.registry:
        return ImageSpec(
            key=key,
            base="registry",
            python_version=image.python,
            registry_ref=image.registry,
            clear_entrypoint=first(image.clear_entrypoint, REGISTRY_CLEAR_ENTRYPOINT),
            steps=tuple(steps),
        )
    return debian_slim(key, first(image.python, IMAGE_PYTHON_VERSION), tuple(steps))


def debian_slim(key: str, python: str = IMAGE_PYTHON_VERSION, steps: tuple[ImageStep, ...] = ()) -> ImageSpec:
    """Modal's debian_slim base with `python` pinned (it has no entrypoint to clear)."""
    return ImageSpec(key=key, base="debian_slim", python_version=python, steps=steps)


def with_local_sources(spec: ImageSpec, packages: Iterable[str]) -> ImageSpec:
    """Append the one `add_local_python_source` step; Modal requires it after every build step."""
    modules = union((ENGINE_PACKAGE,), packages)
    return replace(spec, steps=(*spec.steps, ImageStep(op="add_local_python_source", args=modules)))


def plan_images(
    recipes: Mapping[str, Any],
    engine_images: Mapping[str, ImageSpec],
    uses: Iterable[tuple[str, str | None]],
) -> tuple[ImageSpec, ...]:
    """`uses`: (image key, handler import path or None) for every service and function, in order.

    `engine_images` maps the Blueprint key of each engine default image in use to its spec.
    """
    packages: dict[str, list[str]] = {}
    for key, import_path in uses:
        packages.setdefault(key, [])
        if import_path:
            packages[key].append(handler_package(import_path))
    specs: list[ImageSpec] = []
    for key, recipe in recipes.items():
        if key in packages:
            base = image_from_recipe(key, recipe)
            specs.append(with_local_sources(base, (*recipe.python_sources, *packages[key])))
    for key, spec in engine_images.items():
        specs.append(with_local_sources(spec, packages.get(key, ())))
    return tuple(specs)
