"""`models:` -> `ModelSpec`s, what each user's container gets from them, and the prefetch function.

A function or web service that lists a model gets its cache volume mounted (where the object
already mounts that volume, else at MODEL_MOUNT_ROOT/<volume key>), the model's secret, and an
env var holding the weights' path. An llm service whose `model:` is a key is planned exactly as
the inline `{id, revision}` form (the engine downloads into the Hugging Face cache), with the
model's volume holding that cache. The prefetch function downloads every hub model's pinned
revision into its volume, in huggingface_hub's cache layout, ahead of the first cold start.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from engine.blueprint.model import (
    ContainerSpec,
    FunctionSpec,
    ImageSpec,
    ImageStep,
    ModelSpec,
    MountSpec,
    ScalingSpec,
)
from engine.manifest.models.container import AppFunctionSettings, ContainerSettings
from engine.manifest.models.image_steps import BuildFunction
from engine.manifest.models.llm import LlmService, ModelSource
from engine.manifest.models.weights import Model
from engine.planner.defaults import (
    APP_ENV_VAR,
    BUILD_MODEL_ROOT,
    IMAGE_PYTHON_VERSION,
    MODEL_ENV_PREFIX,
    MODEL_MOUNT_ROOT,
    PREFETCH_ENV_VAR,
    PREFETCH_FUNCTION_KEY,
    PREFETCH_HANDLER,
    PREFETCH_IMAGE_KEY,
    PREFETCH_PACKAGES,
    PREFETCH_TIMEOUT,
)
from engine.planner.names import free_key, function_symbol
from engine.planner.origins import KeyPath, OriginRecorder

if TYPE_CHECKING:  # context.py imports ModelUses from here
    from engine.planner.context import PlanContext

# How ModelSpec.used_by names an image whose build steps read the model ("images.baked").
BUILD_STEP_USER_PREFIX = "images."


def model_env_name(key: str) -> str:
    """MDEPLOY_MODEL_<KEY>: the key upper-cased, every other character an underscore."""
    return MODEL_ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", key).upper()


def model_folder(entry: Model) -> str:
    """Where the weights lie below the volume's root (see ModelSpec.folder)."""
    if entry.id is not None:
        return f"hub/models--{entry.id.replace('/', '--')}/snapshots/{entry.revision}"
    assert entry.path is not None, "validated: a models entry sets exactly one of id and path"
    return entry.path.strip("/")


def default_mount(volume: str) -> str:
    return f"{MODEL_MOUNT_ROOT}/{volume}"


@dataclass
class ModelUses:
    """Who uses each model, collected while services and functions are planned, and which models
    someone reads from its cache volume (those the prefetch function fetches)."""

    users: dict[str, list[str]]
    from_volume: set[str] = field(default_factory=set)
    in_images: dict[str, set[str]] = field(default_factory=dict)  # hub model -> images in use that hold it

    def add(self, key: str, user: str, *, from_volume: bool = True) -> None:
        users = self.users.setdefault(key, [])
        if user not in users:  # an image's build steps are seen before and while it is planned
            users.append(user)
        if from_volume:
            self.from_volume.add(key)


def _build_step_models(ctx: PlanContext, image_key: str | None) -> list[str]:
    """The models keys the manifest image `image_key`'s build steps name, in order: its
    `- models:` steps' and its `run_function` steps' (repeats kept; validation reports them)."""
    recipe = ctx.manifest.images.get(image_key) if image_key is not None else None
    names: list[str] = []
    for item in (recipe.steps or ()) if recipe is not None else ():
        names += item.models or ()
        names += item.run_function.models if item.run_function is not None else ()
    return names


def baked_models(ctx: PlanContext, image_key: str | None) -> frozenset[str]:
    """The hub models the manifest image `image_key` holds: those a `- models:` step fetches into
    it, and those its `run_function` steps read (fetched into it just before them)."""
    models = ctx.manifest.models
    return frozenset(n for n in _build_step_models(ctx, image_key) if n in models and models[n].id is not None)


def note_build_step_models(ctx: PlanContext, image_keys: Iterable[str]) -> None:
    """Record the models the build steps of the images in use read, before the models are
    planned (images are planned last: they need every function, the prefetch one too)."""
    for key in dict.fromkeys(image_keys):
        for name in _build_step_models(ctx, key):
            entry = ctx.manifest.models.get(name)
            if entry is not None:
                ctx.model_uses.add(name, f"{BUILD_STEP_USER_PREFIX}{key}", from_volume=entry.id is None)
        for name in baked_models(ctx, key):
            ctx.model_uses.in_images.setdefault(name, set()).add(key)


def _mounted_at(ctx: PlanContext, obj: ContainerSettings, volume: str) -> str | None:
    """The path the object (or defaults) already mounts `volume` at, if any."""
    return _mounted_in((obj.volumes, ctx.manifest.defaults.volumes), volume)


def _mounted_in(layers: Iterable[Mapping[str, str]], volume: str) -> str | None:
    """The path the first of `layers` (path -> volume key) to mount `volume` mounts it at, if any."""
    for layer in layers:
        for path, key in layer.items():
            if key == volume:
                return path
    return None


ModelParts = tuple[list[MountSpec], dict[str, tuple[str, tuple[KeyPath, ...]]], list[tuple[str, KeyPath]]]


def function_model_parts(
    ctx: PlanContext, obj: AppFunctionSettings, source: KeyPath, at: KeyPath, image: str | None = None
) -> ModelParts:
    """(mounts to add, env name -> (path, manifest keys), secrets) for a function's `models:`;
    a hub model its image holds (`image`: its key) is read from the image, not its volume."""
    defaults = ctx.manifest.defaults
    return _model_parts(
        ctx,
        f"{at[0]}.{at[1]}",
        obj.models,
        source,
        volumes=(obj.volumes, defaults.volumes),
        taken={*obj.volumes, *obj.buckets, *defaults.volumes, *defaults.buckets},
        env=(obj.env, defaults.env),
        env_at=(source, ("defaults",)),
        in_image=baked_models(ctx, image),
        image=image,
    )


class BuildStepModels(NamedTuple):
    """What an image's build step gets from the models it reads: mounts and env as a function
    gets them, and the prefetch jobs (with the secrets they need) that fetch hub models into the
    image, BUILD_MODEL_ROOT, in a build step of mdeploy's own (before a `run_function` step)."""

    mounts: list[MountSpec]
    env: dict[str, tuple[str, tuple[KeyPath, ...]]]
    secrets: list[tuple[str, KeyPath]]  # the prefetch step's: what reads the hub models
    jobs: list[dict[str, Any]]


class ImageModels:
    """What the image planner asks about `models:` (planner/images.py), with the plan's context."""

    def __init__(self, ctx: PlanContext):
        self.ctx = ctx

    def for_function(self, image_key: str, fn: BuildFunction, source: KeyPath, baked: set[str]) -> BuildStepModels:
        """A `run_function` step (`fn`, at manifest path `source`): its own volumes and env only,
        as `defaults:` does not reach image builds. A model in a volume (`path:`) is read from the
        mounted volume; a hub model from the image: `baked` (fetched by an earlier step) or a
        job of the prefetch step before it."""
        ctx = self.ctx
        hub = {n for n in fn.models if n in ctx.manifest.models and ctx.manifest.models[n].id is not None}
        mounts, env, secrets = _model_parts(
            ctx,
            f"{BUILD_STEP_USER_PREFIX}{image_key}",
            fn.models,
            source,
            volumes=(fn.volumes,),
            taken=set(fn.volumes),
            env=(fn.env,),
            env_at=(source,),
            in_image=hub,
        )
        fetch = [n for n in dict.fromkeys(fn.models) if n in hub and n not in baked and model_env_name(n) in env]
        fetch_secrets = [(secret, at) for secret, at in secrets if at[1] in fetch]  # at: ("models", key, ...)
        return BuildStepModels(mounts, env, fetch_secrets, self._jobs(fetch))

    def for_bake(self, names: tuple[str, ...], source: KeyPath, baked: set[str]) -> BuildStepModels:
        """A `- models: [...]` step at `source`: each hub model fetched into the image once."""
        fetch = []
        for index, name in enumerate(names):
            entry = self.ctx.manifest.models.get(name)
            if entry is None or entry.id is None:
                continue  # validation reported it
            if name in baked or name in fetch:
                self.ctx.report(
                    (*source, index),
                    f"model {name!r} is fetched into this image already by an earlier step",
                    "remove it",
                )
                continue
            fetch.append(name)
        secrets: list[tuple[str, KeyPath]] = []
        for name in fetch:
            secret = self.ctx.manifest.models[name].secret
            if secret is not None:
                secrets.append((secret, ("models", name, "secret")))
        return BuildStepModels([], {}, secrets, self._jobs(fetch))

    def _jobs(self, names: Iterable[str]) -> list[dict[str, Any]]:
        jobs = []
        for name in names:
            entry = self.ctx.manifest.models[name]
            assert entry.id is not None, "only hub models are fetched (the callers keep those)"
            jobs.append(_job(name, entry.id, entry.revision, f"{BUILD_MODEL_ROOT}/hub", entry.files))
        return jobs


def _report_no_volume(ctx: PlanContext, at: KeyPath, name: str, source: KeyPath, image: str | None) -> None:
    """A user would read model `name`, which names no volume, from a volume: its image does not
    hold it. (Only a function's or web service's `models:` get here: a build step's hub models
    are always fetched into its image.)"""
    kind = "function" if source[0] == "functions" else "service"
    if image is not None and image in ctx.manifest.images:
        ctx.report(
            at,
            f"model {name!r} has no `volume`, and image {image!r} does not hold it: "
            f"this {kind} would read it from a volume",
            f"bake it into the image (`- models: [{name}]` in images.{image}.steps), "
            f"or name its cache volume: models.{name}.volume",
        )
        return
    ctx.report(
        at,
        f"model {name!r} has no `volume`, and the {kind}'s image does not hold it: "
        f"this {kind} would read it from a volume",
        f"give it an image whose steps bake the model (`- models: [{name}]`), "
        f"or name its cache volume: models.{name}.volume",
    )


def _model_parts(
    ctx: PlanContext,
    user: str,
    names: tuple[str, ...],
    source: KeyPath,
    *,
    volumes: tuple[Mapping[str, str], ...],
    taken: set[str],
    env: tuple[Mapping[str, str], ...],
    env_at: tuple[KeyPath, ...],
    in_image: Collection[str] = (),
    image: str | None = None,
) -> ModelParts:
    """`in_image`: the hub models read from the image (BUILD_MODEL_ROOT), not a mounted volume;
    `image`: the key of the user's manifest image, if it has one (for the messages)."""
    mounts: list[MountSpec] = []
    variables: dict[str, tuple[str, tuple[KeyPath, ...]]] = {}
    secrets: list[tuple[str, KeyPath]] = []
    for index, name in enumerate(names):
        entry = ctx.manifest.models.get(name)
        if entry is None:
            continue  # validation reported it
        baked = name in in_image
        if not baked and entry.volume is None:
            _report_no_volume(ctx, (*source, "models", index), name, source, image)
            continue
        ctx.model_uses.add(name, user, from_volume=not baked)
        where = BUILD_MODEL_ROOT if baked or entry.volume is None else _mounted_in(volumes, entry.volume)
        if where is None:
            assert entry.volume is not None, "a model without a volume is read from the image or reported"
            where = default_mount(entry.volume)
            if where in taken:
                ctx.report(
                    (*source, "models", index),
                    f"model {name!r} would mount volume {entry.volume!r} at {where}, where something else is mounted",
                    f"mount volume {entry.volume!r} yourself (volumes: {{/some/path: {entry.volume}}}); the model is found there",
                )
                continue
            if all(m.source != entry.volume for m in mounts):
                mounts.append(MountSpec(path=where, kind="volume", source=entry.volume))
        variable = model_env_name(name)
        if variable in variables:
            ctx.report(
                (*source, "models", index),
                f"model {name!r} and another model of this object both set {variable}",
                "rename one of the two keys of `models:`",
            )
            continue
        for layer, layer_at in zip(env, env_at):
            if variable in layer:
                ctx.report(
                    (*layer_at, "env", variable),
                    f"{variable} is set by the planner to model {name!r}'s path",
                    "remove this entry",
                )
                break
        variables[variable] = (f"{where}/{model_folder(entry)}", (("models", name), (*source, "models", index)))
        if entry.secret is not None:
            secrets.append((entry.secret, ("models", name, "secret")))
    return mounts, variables, secrets


def service_model(ctx: PlanContext, key: str, svc: LlmService) -> tuple[LlmService, ModelSource] | None:
    """(the service, its model in the inline form): an llm service with `model: KEY` becomes the
    same service with the inline form; others are as they are. None: an unknown key."""
    if not isinstance(svc.model, str):
        return svc, svc.model
    entry = ctx.manifest.models.get(svc.model)
    if entry is None:
        return None
    if entry.volume is None:
        ctx.report(
            ("services", key, "model"),
            f"model {svc.model!r} has no `volume`: the engine reads its model from its Hugging Face cache, "
            "the model's volume",
            f"name its cache volume: models.{svc.model}.volume (e.g. the engines' shared huggingface-cache), "
            "or write the model inline ({id, revision}) to use the engine's own cache",
        )
        return None
    ctx.model_uses.add(svc.model, f"servers.{key}")
    ctx.service_models[key] = svc.model
    if entry.id is not None:
        inline = ModelSource(id=entry.id, revision=entry.revision)
    else:
        where = _mounted_at(ctx, svc, entry.volume) or default_mount(entry.volume)
        inline = ModelSource(path=f"{where}/{model_folder(entry)}")
    return svc.model_copy(update={"model": inline}), inline


def _service_entry(ctx: PlanContext, key: str) -> tuple[str, Model] | None:
    """(the models key, its entry) of llm service `key` when its `model:` names one."""
    name = ctx.service_models.get(key)
    entry = ctx.manifest.models.get(name) if name else None
    return (name, entry) if name and entry is not None else None


def service_model_mounts(ctx: PlanContext, key: str, svc: LlmService) -> list[MountSpec]:
    """A path model's volume, where the service does not mount it already."""
    _, entry = _service_entry(ctx, key) or (None, None)
    if entry is None or entry.id is not None or entry.volume is None or _mounted_at(ctx, svc, entry.volume):
        return []
    return [MountSpec(path=default_mount(entry.volume), kind="volume", source=entry.volume)]


def service_model_secret(ctx: PlanContext, key: str) -> list[tuple[str, KeyPath]]:
    found = _service_entry(ctx, key)
    if found is None:
        return []
    name, entry = found
    return [] if entry.secret is None else [(entry.secret, ("models", name, "secret"))]


def service_hub_cache(ctx: PlanContext, key: str) -> str | None:
    """The volume that holds the engine's Hugging Face cache for a service whose model is a hub
    key: the model's volume, so that a prefetch warms the service's cold start."""
    _, entry = _service_entry(ctx, key) or (None, None)
    if entry is None or entry.id is None:
        return None
    return entry.volume


def plan_models(ctx: PlanContext) -> tuple[ModelSpec, ...]:
    rec = ctx.origins
    specs = []
    for key, entry in ctx.manifest.models.items():
        at = ("models", key)
        rec.manifest(at, at, parts=True)
        rec.key((*at, "key"), at)
        rec.planner(
            (*at, "folder"),
            None,
            [(*at, "id"), (*at, "revision"), (*at, "path")],
            note="huggingface_hub's cache layout of the pinned revision, or the path",
        )
        variable = model_env_name(key)
        rec.planner((*at, "env"), "MODEL_ENV_PREFIX", [at], note="MDEPLOY_MODEL_ + the key")
        users = tuple(ctx.model_uses.users.get(key, ()))
        rec.planner((*at, "used_by"), None, [at], note="the services and functions that reference the model")
        images = _holding_images(ctx, key)
        specs.append(
            ModelSpec(
                key=key,
                volume=_read_from_volume(ctx, key, entry, images),
                folder=model_folder(entry),
                env=variable,
                repo=rec.pick((*at, "repo"), (entry.id, (*at, "id"))),
                revision=rec.pick((*at, "revision"), (entry.revision, (*at, "revision"))),
                allow_patterns=_each(rec, (*at, "allow_patterns"), (*at, "files"), entry.files),
                secret=rec.pick((*at, "secret"), (entry.secret, (*at, "secret"))),
                used_by=users,
                images=images,
            )
        )
    return tuple(specs)


def _holding_images(ctx: PlanContext, key: str) -> tuple[str, ...]:
    """ModelSpec.images: the images in use that hold hub model `key`, in manifest order."""
    holding = ctx.model_uses.in_images.get(key, set())
    images = tuple(image for image in ctx.manifest.images if image in holding)
    at = ("models", key, "images")
    if not images:
        ctx.origins.unset(at, "no image in use fetches the model while it builds")
        return ()
    sources = [path for image in images for path in _build_step_keys(ctx, image, key)]
    ctx.origins.planner(at, None, sources, parts=True, note="the images whose build steps fetch the model in")
    for index in range(len(images)):
        ctx.origins.planner((*at, index), None, sources, note="an image whose build steps fetch the model in")
    return images


def _build_step_keys(ctx: PlanContext, image: str, name: str) -> list[KeyPath]:
    """The manifest keys of image `image`'s build steps that name model `name`."""
    found: list[KeyPath] = []
    for index, item in enumerate(ctx.manifest.images[image].steps or ()):
        at = ("images", image, "steps", index)
        if name in (item.models or ()):
            found.append((*at, "models"))
        if item.run_function is not None and name in item.run_function.models:
            found.append((*at, "run_function", "models"))
    return found


def _read_from_volume(ctx: PlanContext, key: str, entry: Model, images: tuple[str, ...]) -> str | None:
    """ModelSpec.volume: the entry's volume, unless every user reads the model from an image."""
    at = ("models", key, "volume")
    used = bool(ctx.model_uses.users.get(key))
    if entry.volume is None:
        ctx.origins.unset(at, "no `volume:`: every user reads the model from an image that holds it")
        return None
    if used and key not in ctx.model_uses.from_volume:
        names = ", ".join(images)
        ctx.origins.unset(
            at,
            f"volume {entry.volume!r} is not read: every user reads the model from an image that holds it ({names})",
        )
        ctx.warn(
            at,
            f"volume {entry.volume!r} is never mounted for model {key!r}: every user reads it from an "
            f"image that holds it ({names})",
            "remove `volume:` (the image holds the weights), or take the model out of the image's "
            "`models` build step to read it from the volume",
        )
        return None
    ctx.origins.manifest(at, at)
    return entry.volume


def _each(rec: OriginRecorder, at: KeyPath, key: KeyPath, items: tuple[str, ...]) -> tuple[str, ...]:
    rec.each(at, key, len(items))
    return tuple(items)


def prefetch_jobs(models: Iterable[ModelSpec], from_volume: Collection[str]) -> list[dict[str, Any]]:
    """What the prefetch function downloads: one job per hub model some service or function
    reads from its cache volume (`from_volume`: ModelUses'; the env var's JSON)."""
    return [
        _job(m.key, m.repo, m.revision, f"{default_mount(m.volume)}/hub", m.allow_patterns)
        for m in models
        if m.repo is not None and m.volume is not None and m.key in from_volume
    ]


def prefetch_env(jobs: list[dict[str, Any]]) -> str:
    """The MDEPLOY_PREFETCH value engine/runtime/prefetch.py reads."""
    return json.dumps(jobs, sort_keys=True, separators=(",", ":"))


def _job(key: str, repo: str, revision: str | None, cache_dir: str, files: Iterable[str]) -> dict[str, Any]:
    return {
        "key": key,
        "repo": repo,
        "revision": revision,
        "cache_dir": cache_dir,
        "allow_patterns": list(files) or None,
    }


def plan_prefetch(
    ctx: PlanContext, models: tuple[ModelSpec, ...], taken: set[str]
) -> tuple[FunctionSpec, ImageSpec] | tuple[None, None]:
    """The function that fetches every used hub model into its cache volume, and its image."""
    jobs = prefetch_jobs(models, ctx.model_uses.from_volume)
    if not jobs:
        return None, None
    rec = ctx.origins
    key = free_key(PREFETCH_FUNCTION_KEY, taken)
    image_key = free_key(PREFETCH_IMAGE_KEY, set(ctx.manifest.images) | set(ctx.engine_images))
    hub = [m for m in models if m.repo is not None and m.volume is not None and m.key in ctx.model_uses.from_volume]
    volumes = list(dict.fromkeys(m.volume for m in hub if m.volume is not None))
    secrets = list(dict.fromkeys(m.secret for m in hub if m.secret is not None))
    container = ContainerSpec(
        image=image_key,
        secrets=tuple(secrets),
        env={APP_ENV_VAR: ctx.app, PREFETCH_ENV_VAR: prefetch_env(jobs)},
        mounts=tuple(MountSpec(path=default_mount(v), kind="volume", source=v) for v in volumes),
        scaling=ScalingSpec(max_containers=1),  # one download per volume at a time
    )
    inputs = [("models", m.key) for m in hub]
    rec.planner(
        ("functions", key),
        "PREFETCH_FUNCTION_KEY",
        inputs,
        note="downloads each used hub model's pinned revision into its cache volume (`mdeploy run MANIFEST "
        + key
        + "`)",
    )
    spec = FunctionSpec(
        key=key,
        symbol=ctx.symbols.claim(function_symbol(key)),
        name=key,
        handler=PREFETCH_HANDLER,
        container=container,
        timeout=PREFETCH_TIMEOUT,
    )
    image = ImageSpec(
        key=image_key,
        base="debian_slim",
        python_version=IMAGE_PYTHON_VERSION,
        steps=(ImageStep(op="uv_pip_install", args=PREFETCH_PACKAGES),),
    )
    rec.planner(("images", image_key), "PREFETCH_PACKAGES", inputs, note="debian_slim with huggingface_hub pinned")
    return spec, image


def model_keys_at(ctx: PlanContext, key: str) -> KeyPath:
    """The manifest path an llm service's model fields are read from: `models.KEY` when its
    `model:` names an entry, else its own `services.KEY.model` (for the origin record)."""
    name = ctx.service_models.get(key)
    return ("models", name) if name else ("services", key, "model")


def used_models(ctx: PlanContext, at: KeyPath, source: KeyPath, names: tuple[str, ...]) -> tuple[str, ...]:
    """FunctionSpec.models: the keys a function or web service lists, recorded."""
    ctx.origins.each((*at, "models"), (*source, "models"), len(names))
    return tuple(names)
