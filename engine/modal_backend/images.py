"""ImageSpec -> `modal.Image`: the base, then every build step in the Blueprint's order.

The planner lists the local Python sources each image carries (the `engine` package, which
entry.py imports, and the handlers' packages) as its last `add_local_python_source` step; this
module adds nothing of its own, so the image is exactly what `mdeploy plan` shows.

Only lazy constructors: building an image object does no I/O until Modal loads it.

Local files (`add_local_file` / `add_local_dir`) are relative to the project root in the
Blueprint (it must not hold this machine's paths); they are made absolute here, against the root
the deploy side found for the manifest (deploy_side.py: `local_files_root`). A container gets
none: it never reads local files, Modal attached them at deploy. A `run_function` handler is imported only by the deploy, where
Modal reads its module and source to run it in the build container; a container (and the
offline checks) build the same chain with a stand-in of the same name: the image is already
built, and the handler's package need not be in that container's image.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import modal

from engine.blueprint.model import LOCAL_FILE_OPS, Blueprint, ImageSpec, ImageStep
from engine.modal_backend.calls import building


@dataclass(frozen=True)
class ImageContext:
    """What image steps need beyond the Blueprint: where local paths start, the app's secrets by
    key, and whether to import `run_function` handlers (the deploy only: never in a container,
    never in the offline checks, which run no user code)."""

    root: Path | None = None
    secrets: Mapping[str, modal.Secret] = field(default_factory=dict)
    import_build_functions: bool = False
    volumes: Mapping[str, modal.Volume] = field(default_factory=dict)  # by key, for `run_function` mounts


def build_image(spec: ImageSpec, context: ImageContext | None = None) -> modal.Image:
    context = context or ImageContext()
    with building(("images", spec.key), "Image"):
        image = _base_image(spec)
    for index, step in enumerate(spec.steps):
        with building(("images", spec.key, "steps", index), "Image step"):
            image = _apply_step(image, step, spec.key, context)
    return image


def build_images(
    blueprint: Blueprint,
    context: ImageContext | None = None,
    build: Callable[[ImageSpec, ImageContext | None], modal.Image] = build_image,
) -> dict[str, modal.Image]:
    """Every image of `blueprint`, by key; `build` is build_image, or the offline check's
    memo of it (offline_build.py)."""
    return {spec.key: build(spec, context) for spec in blueprint.images}


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


def _apply_step(image: modal.Image, step: ImageStep, image_key: str, context: ImageContext) -> modal.Image:
    op = step.op
    if op == "apt_install":
        return image.apt_install(*step.args)
    if op in ("pip_install", "uv_pip_install"):
        install = image.pip_install if op == "pip_install" else image.uv_pip_install
        return install(
            *step.args,
            index_url=step.index_url,
            extra_index_url=step.extra_index_url,
            find_links=step.find_links,
            pre=step.pre,
        )
    if op in LOCAL_FILE_OPS:
        src, dest = step.args
        local = str(context.root / src) if context.root is not None else src
        if op == "add_local_file":
            return image.add_local_file(local, dest, copy=step.copy)
        return image.add_local_dir(local, dest, copy=step.copy, ignore=list(step.ignore))
    if op == "run_function":
        (reference,) = step.args
        gpu: str | list[str] | None = list(step.gpu) if len(step.gpu) > 1 else (step.gpu[0] if step.gpu else None)
        kwargs: dict[str, Any] = {} if step.timeout is None else {"timeout": step.timeout}
        if step.env:
            kwargs["env"] = dict(sorted(step.env.items()))
        return image.run_function(
            _build_function(reference, context.import_build_functions),
            gpu=gpu,
            cpu=step.cpu,
            memory=step.memory,
            secrets=[_secret(context, key, image_key) for key in step.secrets],
            volumes={mount.path: _volume(context, mount.source, image_key) for mount in step.mounts},
            **kwargs,
        )
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


def _secret(context: ImageContext, key: str, image_key: str) -> modal.Secret:
    if key not in context.secrets:
        raise ValueError(f"image {image_key!r}: run_function secret {key!r} was not built (ImageContext.secrets)")
    return context.secrets[key]


def _volume(context: ImageContext, key: str, image_key: str) -> modal.Volume:
    if key not in context.volumes:
        raise ValueError(f"image {image_key!r}: run_function volume {key!r} was not built (ImageContext.volumes)")
    return context.volumes[key]


def _build_function(reference: str, real: bool) -> Callable[[], None]:
    if real:
        from engine.errors import UserError
        from engine.runtime.handler_import import HandlerImportError, import_handler

        try:
            handler: Callable[[], None] = import_handler(reference)
        except HandlerImportError as exc:
            raise UserError(
                f"{exc}: the deploy imports a run_function step's function on this machine (Modal "
                "reads its source to run it while building); install what its module imports here"
            ) from None
        return handler
    module, _, name = reference.partition(":")

    def stand_in() -> None:  # never called: Modal runs the real one, imported by the deploy
        raise RuntimeError(f"the build step {reference} runs only while the image builds")

    stand_in.__name__ = stand_in.__qualname__ = name
    stand_in.__module__ = module
    return stand_in
