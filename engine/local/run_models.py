"""Where a function's models are when `mdeploy run` calls its handler here, said plainly.

In a container `MDEPLOY_MODEL_<KEY>` names the model's folder: in its cache volume's mount, or in
the image when the function runs on one of the images that hold it (`ModelSpec.images`, which
the planner decides: a `- models:` build step baked it in). Here:
- a model in a volume is under the volume's local copy (`.mdeploy/volumes/NAME/...`), which the
  mount rewriting already points the variable at;
- a model in the image is in this machine's Hugging Face cache, where `hf download` puts it and
  where `mdeploy serve` reads a service's model from: there is no image here to hold it.
Either way `run` names the folder before the call, and when it is empty says the one command that
fills it, so a handler's "no such file" is not the first the user hears of it.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from engine.blueprint.model import Blueprint, FunctionSpec, ModelSpec
from engine.local.hub import cache_folder
from engine.local.state import shown_path

# ModelSpec.folder of a hub model is huggingface_hub's cache layout below a root: `hub/models--...`.
_HUB_FOLDER = "hub"


@dataclass(frozen=True)
class LocalModel:
    spec: ModelSpec
    container_path: str  # what the variable names in a container
    local_path: Path  # what it names here
    in_image: bool

    @property
    def present(self) -> bool:
        return self.local_path.is_dir() and any(self.local_path.iterdir())


def point_models_here(
    blueprint: Blueprint, function: FunctionSpec, env: MutableMapping[str, str], environ: Mapping[str, str]
) -> list[LocalModel]:
    """The function's models as this machine holds them; `env` (already rewritten for the mounts)
    is updated so that each baked model's variable names its folder in the local Hugging Face cache."""
    specs = {spec.key: spec for spec in blueprint.models}
    found = []
    for key in function.models:
        spec = specs.get(key)
        container_path = function.container.env.get(spec.env) if spec is not None else None
        if spec is None or container_path is None:
            continue  # the planner sets both for every model a function lists
        in_image = function.container.image in spec.images
        if in_image:
            local = cache_folder(environ) / PurePosixPath(spec.folder).relative_to(_HUB_FOLDER)
            env[spec.env] = str(local)
        else:
            local = Path(env.get(spec.env, container_path))
        found.append(LocalModel(spec, container_path, local, in_image))
    return found


def model_line(model: LocalModel) -> str:
    """Where the model is here, and, when its folder is empty, how to fill it."""
    spec, local = model.spec, shown_path(model.local_path)
    what = f"{spec.repo}@{spec.revision[:12]}" if spec.repo and spec.revision else spec.folder
    if model.in_image:
        line = (
            f"model {spec.key} ({what}) is baked into the image at {model.container_path} on Modal; "
            f"here {spec.env} is {local}, in this machine's Hugging Face cache"
        )
    else:
        line = f"model {spec.key} ({what}) is in the volume of volumes.{spec.volume}; here {spec.env} is {local}"
    if model.present:
        return line
    return f"{line}, which is empty: {_fill_command(model)}"


def _fill_command(model: LocalModel) -> str:
    spec = model.spec
    if spec.repo is None or spec.revision is None:
        return f"put the weights there (on Modal they are at {spec.folder} in volume {spec.volume})"
    include = "".join(f" --include '{pattern}'" for pattern in spec.allow_patterns)
    if model.in_image:
        return f"fetch it with `hf download {spec.repo} --revision {spec.revision}{include}`"
    # local_path is CACHE/models--ORG--NAME/snapshots/REVISION, huggingface_hub's layout
    cache = shown_path(model.local_path.parent.parent.parent)
    return f"fetch it with `hf download {spec.repo} --revision {spec.revision}{include} --cache-dir {cache}`"
