"""Image recipes -> `ImageSpec`s with explicit, ordered build steps.

Only images some service or function uses are planned (Modal builds nothing else either), in
manifest order, then the engine default images in order of first use. Every image ends with one
`add_local_python_source` step: `engine` (the container imports the entry module's package),
the image's own `python_sources`, then the handler packages of the objects that run on it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from engine.blueprint.model import LOCAL_FILE_OPS, ImageSpec, ImageStep, LocalFileOp, MountSpec
from engine.manifest.models.image_steps import BuildFunction, ImageStepItem, LocalDir, LocalFile
from engine.manifest.models.images import Image
from engine.planner.defaults import (
    ENGINE_PACKAGE,
    IMAGE_PYTHON_VERSION,
    PREFETCH_ENV_VAR,
    PREFETCH_HANDLER,
    PREFETCH_TIMEOUT,
)
from engine.planner.models import ImageModels, prefetch_env
from engine.planner.origins import KeyPath, OriginRecorder, planner_default


def handler_package(import_path: str) -> str:
    """`workloads.pipeline:run` -> `workloads` (the top-level package Modal must ship)."""
    return import_path.split(":", 1)[0].split(".", 1)[0]


# The ImageStep fields only some steps set; every step records each one (set or why not).
_OPTIONAL_FIELDS = (
    "index_url",
    "extra_index_url",
    "find_links",
    "pre",
    "copy",
    "ignore",
    "gpu",
    "secrets",
    "timeout",
    "cpu",
    "memory",
    "mounts",
    "models",
)
_LOCAL_OPS = LOCAL_FILE_OPS  # typed: `key in _LOCAL_OPS` narrows a step key to its op


class _StepRecorder:
    """Appends ImageSteps in order, recording the origin of every field of each."""

    def __init__(self, rec: OriginRecorder, at: KeyPath, models: ImageModels | None = None):
        self.rec, self.at, self.models = rec, at, models
        self.baked: set[str] = set()  # hub models an earlier step fetched into the image
        self.steps: list[ImageStep] = []
        self.sources: list[KeyPath] = []  # the manifest key each step comes from

    def where(self) -> KeyPath:
        return (*self.at, "steps", len(self.steps))

    def add(
        self,
        made: ImageStep,
        source: KeyPath,
        field: str,
        *,
        args_from: KeyPath | None = None,
        env_from: KeyPath | None = None,
        options: Mapping[str, KeyPath] | None = None,
    ) -> KeyPath:
        """`source`: the manifest key of the step; `field`: its step key; `options`: ImageStep
        field -> the manifest key that set it (recorded as picks: unset when the manifest has none)."""
        rec, where = self.rec, self.where()
        rec.manifest(where, source, parts=True)
        rec.planner((*where, "op"), None, [source], note=f"the build step for `{field}`")
        if args_from is not None:
            rec.each((*where, "args"), args_from, len(made.args))
        else:
            rec.unset((*where, "args"), f"`{field}` takes no arguments")
        if env_from is not None:
            rec.manifest((*where, "env"), env_from, parts=True)
        else:
            rec.unset((*where, "env"), "only an env step sets env")
        for name in made.env:
            rec.manifest((*where, "env", name), (*(env_from or source), name))
        options = options or {}
        for name in _OPTIONAL_FIELDS:
            if name in options:
                value = getattr(made, name)
                rec.pick((*where, name), (value if value not in ((), False) else None, options[name]))
            elif not (name == "copy" and made.op in _LOCAL_OPS):  # a local step's copy: _decide_copies
                rec.unset((*where, name), f"not an option of `{field}`")
        self.steps.append(made)
        self.sources.append(source)
        return where


def _pip_step(steps: _StepRecorder, body: Image | ImageStepItem, source: KeyPath, pip: KeyPath, opts: KeyPath) -> None:
    """A pip step from `body` (the image, or one item of `steps`); `opts`: where its options live."""
    rec = steps.rec
    installer = body.installer if body.installer is not None else planner_default("IMAGE_INSTALLER").value
    made = ImageStep(
        op="uv_pip_install" if installer == "uv" else "pip_install",
        args=tuple(body.pip or ()),  # an item's is set: it is a pip step
        index_url=body.index_url,
        extra_index_url=body.extra_index_url,
        find_links=body.find_links,
        pre=bool(body.pre),
    )
    names = ("index_url", "extra_index_url", "find_links", "pre")
    where = steps.add(made, source, "pip", args_from=pip, options={n: (*opts, n) for n in names})
    rec.pick((*where, "op"), (body.installer, (*opts, "installer")), planner_default("IMAGE_INSTALLER"))


def _unordered_steps(steps: _StepRecorder, image: Image, path: KeyPath) -> None:
    """The original form: apt, pip, env, run, workdir, in that order whatever the file's order."""
    if image.apt:
        steps.add(ImageStep(op="apt_install", args=tuple(image.apt)), (*path, "apt"), "apt", args_from=(*path, "apt"))
    if image.pip:
        _pip_step(steps, image, (*path, "pip"), (*path, "pip"), path)
    if image.env:
        steps.add(ImageStep(op="env", env=dict(image.env)), (*path, "env"), "env", env_from=(*path, "env"))
    if image.run:
        steps.add(ImageStep(op="run_commands", args=tuple(image.run)), (*path, "run"), "run", args_from=(*path, "run"))
    if image.workdir:
        where = steps.add(ImageStep(op="workdir", args=(image.workdir,)), (*path, "workdir"), "workdir")
        steps.rec.manifest((*where, "args"), (*path, "workdir"), parts=True)
        steps.rec.manifest((*where, "args", 0), (*path, "workdir"))


def _ordered_steps(steps: _StepRecorder, image: Image, path: KeyPath) -> None:
    """`steps:` as written, one ImageStep per item."""
    for index, item in enumerate(image.steps or ()):
        item_path = (*path, "steps", index)
        key = item.key()
        here = (*item_path, key)
        # `key` is the one step field the item sets, so the `is not None` tests below always hold:
        # they tell mypy which field is set.
        if key == "apt" and item.apt is not None:
            steps.add(ImageStep(op="apt_install", args=tuple(item.apt)), item_path, key, args_from=here)
        elif key == "pip":
            _pip_step(steps, item, item_path, here, item_path)
        elif key == "env" and item.env is not None:
            steps.add(ImageStep(op="env", env=dict(item.env)), item_path, key, env_from=here)
        elif key == "run" and item.run is not None:
            steps.add(ImageStep(op="run_commands", args=tuple(item.run)), item_path, key, args_from=here)
        elif key == "workdir" and item.workdir is not None:
            where = steps.add(ImageStep(op="workdir", args=(item.workdir,)), item_path, key)
            steps.rec.manifest((*where, "args"), here, parts=True)
            steps.rec.manifest((*where, "args", 0), here)
        elif key in _LOCAL_OPS:
            _local_step(steps, getattr(item, key), item_path, key)
        elif key == "run_function" and item.run_function is not None:
            _function_step(steps, item.run_function, item_path)
        elif key == "models" and item.models is not None:
            _models_step(steps, tuple(item.models), item_path)


def _local_step(steps: _StepRecorder, local: LocalFile | LocalDir, item_path: KeyPath, key: LocalFileOp) -> None:
    ignore = tuple(getattr(local, "ignore", ()))
    made = ImageStep(op=key, args=(posixpath.normpath(local.src), local.dest), ignore=ignore)
    options = {"ignore": (*item_path, key, "ignore")} if key == "add_local_dir" else {}
    where = steps.add(made, item_path, key, options=options)
    steps.rec.manifest((*where, "args"), (*item_path, key), parts=True)
    steps.rec.manifest((*where, "args", 0), (*item_path, key, "src"))
    steps.rec.manifest((*where, "args", 1), (*item_path, key, "dest"))


def _function_step(steps: _StepRecorder, fn: BuildFunction, item_path: KeyPath) -> None:
    """A `run_function` step: its own volumes and env, and MDEPLOY_MODEL_<KEY> for each model it
    reads: a hub model in the image, fetched by a step before it (`_prefetch_step`); a model in a
    volume, in that volume, mounted (planner/models.py)."""
    rec = steps.rec
    here = (*item_path, "run_function")
    image_key = str(steps.at[1])  # at: ("images", key)
    models = steps.models.for_function(image_key, fn, here, steps.baked) if steps.models else None
    mounts, model_env = (models.mounts, models.env) if models else ([], {})
    own = [MountSpec(path=path, kind="volume", source=volume) for path, volume in fn.volumes.items()]
    if models and models.jobs:
        _prefetch_step(steps, here, (*here, "models"), models.jobs, [name for name, _ in models.secrets])
    timeout = fn.timeout if fn.timeout is not None else planner_default("BUILD_FUNCTION_TIMEOUT").value
    made = ImageStep(
        op="run_function",
        args=(fn.handler,),
        gpu=tuple(fn.gpu or ()),
        secrets=tuple(fn.secrets),
        timeout=timeout,
        cpu=float(fn.cpu) if fn.cpu is not None else None,
        memory=fn.memory,
        env={**fn.env, **{name: path for name, (path, _) in model_env.items()}},
        mounts=(*own, *mounts),
        models=tuple(fn.models),
    )
    options = {name: (*here, name) for name in ("gpu", "secrets", "cpu", "memory")}
    where = steps.add(made, item_path, "run_function", env_from=(*here, "env"), options=options)
    rec.manifest((*where, "args"), here, parts=True)
    rec.manifest((*where, "args", 0), (*here, "handler"))
    rec.pick((*where, "timeout"), (fn.timeout, (*here, "timeout")), planner_default("BUILD_FUNCTION_TIMEOUT"))
    for name, (_, keys) in model_env.items():
        rec.planner((*where, "env", name), "MODEL_ENV_PREFIX", keys, note="where the model's weights lie in its volume")
    rec.planner(
        (*where, "mounts"),
        None,
        [(*here, "volumes"), (*here, "models")],
        parts=True,
        note="its volumes, then its models' cache volumes",
    )
    for index, mount in enumerate(made.mounts):
        if index < len(own):
            rec.manifest((*where, "mounts", index), (*here, "volumes", mount.path))
        else:
            rec.planner(
                (*where, "mounts", index),
                "MODEL_MOUNT_ROOT",
                [(*here, "models")],
                note="the cache volume of a model it reads",
            )
    rec.each((*where, "models"), (*here, "models"), len(made.models))


def _models_step(steps: _StepRecorder, names: tuple[str, ...], item_path: KeyPath) -> None:
    """`- models: [...]`: the hub models fetched into the image (baked in)."""
    here = (*item_path, "models")
    models = steps.models.for_bake(names, here, steps.baked) if steps.models else None
    if models and models.jobs:
        _prefetch_step(steps, item_path, here, models.jobs, [name for name, _ in models.secrets])


def _prefetch_step(
    steps: _StepRecorder, source: KeyPath, models_at: KeyPath, jobs: list[dict[str, Any]], secrets: list[str]
) -> None:
    """A build step of mdeploy's own that fetches pinned hub models into the image
    (BUILD_MODEL_ROOT): a `- models:` step, or the step before a `run_function` that reads hub
    models no earlier step fetched, so it finds its weights there on every build, the first too."""
    rec = steps.rec
    here = source
    steps.baked.update(job["key"] for job in jobs)
    made = ImageStep(
        op="run_function",
        args=(PREFETCH_HANDLER,),
        env={PREFETCH_ENV_VAR: prefetch_env(jobs)},
        secrets=tuple(dict.fromkeys(secrets)),
        timeout=PREFETCH_TIMEOUT,
        models=tuple(job["key"] for job in jobs),
    )
    where = steps.add(made, here, "run_function")
    inputs = [models_at]
    note = "fetches the pinned revisions of the hub models the next step reads into the image"
    rec.planner(where, None, inputs, parts=True, note=note)
    rec.planner((*where, "args"), None, inputs, parts=True)
    rec.planner((*where, "args", 0), "PREFETCH_HANDLER", inputs)
    rec.planner((*where, "env"), None, inputs, parts=True)
    rec.planner(
        (*where, "env", PREFETCH_ENV_VAR), "BUILD_MODEL_ROOT", inputs, note="the jobs: repo, revision, cache folder"
    )
    for name in ("secrets", "models"):
        rec.planner((*where, name), None, inputs, parts=True, note="those of the hub models the next step reads")
        for index in range(len(getattr(made, name))):
            rec.planner((*where, name, index), None, inputs)
    rec.planner((*where, "timeout"), "PREFETCH_TIMEOUT", inputs)


def _decide_copies(steps: _StepRecorder) -> None:
    """A local file or folder is added at container start (fast, Modal's default) unless a build
    step follows it, which Modal allows only for files copied into a layer (`copy=True`)."""
    later_build: int | None = None  # index of the nearest later step that builds a layer
    for index in range(len(steps.steps) - 1, -1, -1):
        step = steps.steps[index]
        where = (*steps.at, "steps", index)
        if step.op not in _LOCAL_OPS:
            later_build = index
            continue
        if later_build is None:
            steps.rec.unset((*where, "copy"), "added when the container starts: no build step follows it")
            continue
        steps.steps[index] = replace(step, copy=True)
        steps.rec.planner(
            (*where, "copy"),
            None,
            [steps.sources[later_build]],
            note="copied into a layer: a build step follows it, which Modal allows only after copied files",
        )
        later_build = index


def image_from_recipe(rec: OriginRecorder, key: str, image: Image, models: ImageModels | None = None) -> ImageSpec:
    """`models`: what build steps get from the `models:` they read or bake in; None plans none."""
    at, path = ("images", key), ("images", key)
    rec.manifest(at, path, parts=True)
    rec.key((*at, "key"), path)
    recorder = _StepRecorder(rec, at, models)
    if image.steps is not None:
        _ordered_steps(recorder, image, path)
        _decide_copies(recorder)
        rec.planner(
            (*at, "steps"),
            None,
            [(*path, "steps")],
            parts=True,
            note="the `steps` in the order written, then local Python sources",
        )
    else:
        _unordered_steps(recorder, image, path)
        rec.planner(
            (*at, "steps"),
            None,
            [path],
            parts=True,
            note="apt, pip, env, run, workdir, then local Python sources, in that order",
        )
    steps = recorder.steps
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


def with_local_sources(rec: OriginRecorder, spec: ImageSpec, packages: Iterable[tuple[str, KeyPath]]) -> ImageSpec:
    """Append the one `add_local_python_source` step; Modal requires it after every build step.
    `packages`: (package, the manifest key that names it: a python_sources entry or a handler)."""
    origin_of: dict[str, KeyPath | None] = {ENGINE_PACKAGE: None}
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
    for index, named_by in enumerate(origin_of.values()):
        if named_by is None:
            rec.planner((*where, "args", index), "ENGINE_PACKAGE")
        else:
            rec.planner(
                (*where, "args", index),
                None,
                [named_by],
                note="the top-level package of a handler or python_sources entry",
            )
    for field in ("env", *_OPTIONAL_FIELDS):
        rec.unset((*where, field), "local sources take no env, index or options")
    modules = tuple(origin_of)
    return replace(spec, steps=(*spec.steps, ImageStep(op="add_local_python_source", args=modules)))


def plan_images(
    rec: OriginRecorder,
    recipes: Mapping[str, Image],
    engine_images: Mapping[str, ImageSpec],
    uses: Iterable[tuple[str, str | None, KeyPath | None]],
    *,
    models: ImageModels | None = None,
) -> tuple[ImageSpec, ...]:
    """`uses`: (image key, handler import path or None, the handler's manifest key) for every
    service and function, in order.

    `engine_images` maps the Blueprint key of each engine default image in use to its spec.
    """
    packages: dict[str, list[tuple[str, KeyPath]]] = {}
    for key, import_path, handler_key in uses:
        packages.setdefault(key, [])
        if import_path and handler_key is not None:
            packages[key].append((handler_package(import_path), handler_key))
    specs: list[ImageSpec] = []
    for key, recipe in recipes.items():
        if key in packages:
            base = image_from_recipe(rec, key, recipe, models)
            sources = [(name, ("images", key, "python_sources", i)) for i, name in enumerate(recipe.python_sources)]
            specs.append(with_local_sources(rec, base, (*sources, *packages[key])))
    for key, spec in engine_images.items():
        specs.append(with_local_sources(rec, spec, packages.get(key, ())))
    return tuple(specs)
