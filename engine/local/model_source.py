"""Can the engine load its model here? Checked before it starts, so a missing model is one line.

An engine told to load a folder that is not there, or a Hub model on a machine that cannot reach
the Hub, fails only after it has imported torch (tens of seconds) and then in its own words
(transformers: `OSError: Repo id must be in the form...`; huggingface_hub: minutes of retries).
What the engine will load is read from the server's fields:
- a pinned `revision` means the Hub;
- otherwise the model, when the command names it, is a folder: a path in a mount is the mount's
  local folder, a relative path is below the project root (where engines run locally);
- a command that names neither (a test's stand-in engine) is not checked.
"""

from __future__ import annotations

import sys
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

from engine.blueprint.model import ServerSpec
from engine.errors import UserError
from engine.local import hub
from engine.local.mounts import LocalMount, rewrite_path
from engine.local.state import shown_path

TINY_MODEL_MODULE = "engine.local.tiny_model"


@dataclass(frozen=True)
class HubModel:
    repo_id: str
    revision: str


@dataclass(frozen=True)
class ModelFolder:
    folder: Path  # absolute, on this machine


def model_source(server: ServerSpec, mounts: list[LocalMount], root: Path) -> HubModel | ModelFolder | None:
    """What the engine of `server` will load: a pinned Hub model (its `revision` field), else the
    folder its `model` names, if its command loads a model at all (a stand-in command may not)."""
    if server.revision:
        return HubModel(server.model, server.revision)
    named = any(
        arg == server.model or arg.endswith("=" + server.model) or arg.startswith(server.model + "@")
        for arg in server.command
    )
    if not named:
        return None
    return ModelFolder((root / rewrite_path(server.model, mounts)).resolve())


def check_model_available(source: HubModel | ModelFolder | None, env: MutableMapping[str, str]) -> list[str]:
    """Raise a one-line UserError when the engine could not load its model here; the notes to
    show otherwise. A Hub model that is cached while the Hub is unreachable is served offline
    (HF_HUB_OFFLINE=1 is set in `env`, the engine's environment)."""
    if isinstance(source, ModelFolder):
        _check_folder(source.folder)
        return []
    if isinstance(source, HubModel):
        return _check_hub_model(source, env)
    return []


def tiny_model_command(folder: Path) -> str:
    """The command that writes the tiny test model into `folder`, with this interpreter."""
    return f"{shown_path(Path(sys.executable))} -m {TINY_MODEL_MODULE} {shown_path(folder)}"


def _check_folder(folder: Path) -> None:
    shown = shown_path(folder)
    if not folder.is_dir():
        problem = "is a file, not a folder" if folder.exists() else "does not exist"
    elif not (folder / "config.json").is_file():
        problem = "has no config.json"
    else:
        return
    raise UserError(
        f"model folder {shown} {problem}: put a model saved with save_pretrained there, "
        f"or write the tiny test model: {tiny_model_command(folder)}"
    )


def _check_hub_model(model: HubModel, env: MutableMapping[str, str]) -> list[str]:
    cache = hub.cache_folder(env)
    if hub.is_cached(model.repo_id, model.revision, cache):
        if hub.offline(env):
            return []
        # huggingface_hub reads a pinned commit from the cache without asking the Hub; the
        # engine may still ask for files the cache lacks, so it is told to stay offline only
        # when the Hub is out of reach anyway.
        if hub.unreachable(hub.endpoint(env)) is None:
            return []
        env["HF_HUB_OFFLINE"] = "1"
        return [f"the Hub is not reachable: serving {model.repo_id} from the local cache (HF_HUB_OFFLINE=1)"]
    wanted = (
        f"{model.repo_id} (revision {model.revision[:12]}) must come from the Hugging Face Hub and is not in "
        f"the local cache {shown_path(cache)}"
    )
    if hub.offline(env):
        raise UserError(
            f"{wanted}, and HF_HUB_OFFLINE is set: unset it to download the model, or serve a model folder (model.path)"
        )
    problem = hub.unreachable(hub.endpoint(env))
    if problem is not None:
        raise UserError(f"{wanted}, and {problem}: connect to the network, or serve a model folder (model.path)")
    return []
