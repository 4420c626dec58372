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
from engine.blueprint.planner_defaults import ENGINE_PACKAGE, IMAGE_PYTHON_VERSION
from engine.blueprint.planner_origins import OriginRecorder, planner_default


def handler_package(import_path: str) -> str:
    """`workloads.pipeline:run` -> `workloads` (the top-level package Modal must ship)."""
    return import_path.split(":", 1)[0].split(".", 1)[0]


def image_from_recipe(rec: OriginRecorder, key: str, image: Any) -> ImageSpec:
    at, path = ("images", key), ("images", key)
    rec.manifest(at, path, parts=True)
    rec.manifest((*at, "key"), path)
    steps: list[ImageStep] = []

    def step(field: str, made: ImageStep, *, args_from: str | None = None, env_from: str | None = None) -> None:
        where = (*at, "steps", len(steps))
        rec.manifest(where, (*path, field), parts=True)
        rec.planner((*where, "op"), None, [(*path, field)], note=f"the build step for `{field}`")
        if args_from is not None:
            rec.each((*where, "args"), (*path, args_from), len(made.args))
        else:
            rec.unset((*where, "args"), f"`{field}` takes no arguments")
        if env_from is not None:
            rec.manifest((*where, "env"), (*path, env_from), parts=True)
        else:
            rec.unset((*where, "env"), "only an env step sets env")
        for name in made.env:
            rec.manifest((*where, "env", name), (*path, "env", name))
        if made.op not in ("pip_install", "uv_pip_install"):
            rec.unset((*where, "index_url"), "only pip steps take an index")
            rec.unset((*where, "extra_index_url"), "only pip steps take an index")
        steps.append(made)

    if image.apt:
        step("apt", ImageStep(op="apt_install", args=tuple(image.apt)), args_from="apt")
    if image.pip:
        installer = image.installer if image.installer is not None else planner_default("IMAGE_INSTALLER").value
        op = "uv_pip_install" if installer == "uv" else "pip_install"
        made = ImageStep(op=op, args=tuple(image.pip), index_url=image.index_url, extra_index_url=image.extra_index_url)
        where = (*at, "steps", len(steps))
        step("pip", made, args_from="pip")
        rec.pick((*where, "op"), (image.installer, (*path, "installer")), planner_default("IMAGE_INSTALLER"))
        rec.pick((*where, "index_url"), (image.index_url, (*path, "index_url")))
        rec.pick((*where, "extra_index_url"), (image.extra_index_url, (*path, "extra_index_url")))
    if image.env:
        step("env", ImageStep(op="env", env=dict(image.env)), env_from="env")
    if image.run:
        step("run", ImageStep(op="run_commands", args=tuple(image.run)), args_from="run")
    if image.workdir:
        where = (*at, "steps", len(steps))
        step("workdir", ImageStep(op="workdir", args=(image.workdir,)))
        rec.manifest((*where, "args"), (*path, "workdir"), parts=True)
        rec.manifest((*where, "args", 0), (*path, "workdir"))
    rec.planner(
        (*at, "steps"),
        None,
        [path],
        parts=True,
        note="apt, pip, env, run, workdir, then local Python sources, in that order",
    )
    if image.registry:
        rec.planner(
            (*at, "base"), None, [(*path, "registry")], note="registry, as the manifest names a `registry:` image"
        )
        rec.manifest((*at, "registry_ref"), (*path, "registry"))
        rec.pick((*at, "python_version"), (image.python, (*path, "python")))
        return ImageSpec(
            key=key,
            base="registry",
            python_version=image.python,
            registry_ref=image.registry,
            clear_entrypoint=rec.pick(
                (*at, "clear_entrypoint"),
                (image.clear_entrypoint, (*path, "clear_entrypoint")),
                planner_default("REGISTRY_CLEAR_ENTRYPOINT"),
            ),
            steps=tuple(steps),
        )
    rec.planner((*at, "base"), None, [], note="debian_slim, as the manifest names no `registry:` image")
    rec.unset((*at, "registry_ref"), "a debian_slim image has no registry reference")
    rec.unset((*at, "clear_entrypoint"), "a debian_slim image has no entrypoint to clear")
    python = rec.pick(
        (*at, "python_version"), (image.python, (*path, "python")), planner_default("IMAGE_PYTHON_VERSION")
    )
    return debian_slim(key, python, tuple(steps))


def debian_slim(key: str, python: str = IMAGE_PYTHON_VERSION, steps: tuple[ImageStep, ...] = ()) -> ImageSpec:
    """Modal's debian_slim base with `python` pinned (it has no entrypoint to clear)."""
    return ImageSpec(key=key, base="debian_slim", python_version=python, steps=steps)


def with_local_sources(rec: OriginRecorder, spec: ImageSpec, packages: Iterable[tuple[str, tuple]]) -> ImageSpec:
    """Append the one `add_local_python_source` step; Modal requires it after every build step.
    `packages`: (package, the manifest key that names it: a python_sources entry or a handler)."""
    origin_of: dict[str, tuple | None] = {ENGINE_PACKAGE: None}
    for package, key in packages:
        origin_of.setdefault(package, key)
    where = ("images", spec.key, "steps", len(spec.steps))
    rec.planner(
        where,
        None,
        [k for k in origin_of.values() if k is not None],
        parts=True,
        note="the engine package and the handler packages every image carries",
    )
    rec.planner((*where, "op"), None, note="local Python sources are added last, as Modal requires")
    rec.planner((*where, "args"), None, parts=True)
    for index, key in enumerate(origin_of.values()):
        if key is None:
            rec.planner((*where, "args", index), "ENGINE_PACKAGE")
        else:
            rec.planner(
                (*where, "args", index), None, [key], note="the top-level package of a handler or python_sources entry"
            )
    for field in ("env", "index_url", "extra_index_url"):
        rec.unset((*where, field), "local sources take no env or index")
    modules = tuple(origin_of)
    return replace(spec, steps=(*spec.steps, ImageStep(op="add_local_python_source", args=modules)))


def plan_images(
    rec: OriginRecorder,
    recipes: Mapping[str, Any],
    engine_images: Mapping[str, ImageSpec],
    uses: Iterable[tuple[str, str | None, tuple | None]],
) -> tuple[ImageSpec, ...]:
    """`uses`: (image key, handler import path or None, the handler's manifest key) for every
    service and function, in order.

    `engine_images` maps the Blueprint key of each engine default image in use to its spec.
    """
    packages: dict[str, list[tuple[str, tuple]]] = {}
    for key, import_path, handler_key in uses:
        packages.setdefault(key, [])
        if import_path and handler_key is not None:
            packages[key].append((handler_package(import_path), handler_key))
    specs: list[ImageSpec] = []
    for key, recipe in recipes.items():
        if key in packages:
            base = image_from_recipe(rec, key, recipe)
            sources = [(name, ("images", key, "python_sources", i)) for i, name in enumerate(recipe.python_sources)]
            specs.append(with_local_sources(rec, base, (*sources, *packages[key])))
    for key, spec in engine_images.items():
        specs.append(with_local_sources(rec, spec, packages.get(key, ())))
    return tuple(specs)
