"""What engine/entry.py does on the deploying machine: manifest -> Blueprint, errors -> one message.

Imported only when `modal.is_local()`: this is the one place the entry reaches the planner (and
through it pydantic and the YAML parser), so containers never pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.blueprint.model import Blueprint
from engine.errors import UserError

MANIFEST_VAR = "MDEPLOY_MANIFEST"
ENVIRONMENT_VAR = "MODAL_ENVIRONMENT"


def blueprint_for_deploy(environ: Mapping[str, str]) -> Blueprint:
    """The Blueprint of the manifest named by MDEPLOY_MANIFEST for MODAL_ENVIRONMENT."""
    return plan_for_deploy(environ)[0]


def plan_for_deploy(environ: Mapping[str, str]) -> tuple[Blueprint, Mapping[tuple[str, str], Mapping[str, Any]]]:
    """Plan the manifest named by MDEPLOY_MANIFEST for MODAL_ENVIRONMENT: the Blueprint, and the
    values of its env entries that came from variables (for `build_app(env_values=...)`); put the
    project's folders first on sys.path (engine/project/root.py).

    A missing variable or an invalid manifest raises UserError whose message is the whole story
    (the located problems, one per line) and no exception chain: `modal deploy` shows it as the
    cause of the failed import, and the planner's internals are noise there. What Modal's own
    client would refuse while the app is built is among those problems, at its manifest key
    (modal_problems.py), as `mdeploy validate` reports it.
    """
    from engine.manifest.errors import ManifestError
    from engine.modal_backend.modal_problems import modal_problems
    from engine.planner.plan import load_and_plan

    manifest = environ.get(MANIFEST_VAR)
    if not manifest:
        raise UserError(
            f"{MANIFEST_VAR} is not set: name the manifest to deploy, e.g. "
            f"`{MANIFEST_VAR}=manifests/chat.yaml modal deploy engine/entry.py --env=prod` "
            "(or use `mdeploy deploy MANIFEST --env ENV`)"
        )
    environment = environ.get(ENVIRONMENT_VAR) or None
    try:
        loaded, planned = load_and_plan(manifest, environment, environ)
        refused = [problem for problem in modal_problems(loaded, planned) if problem.is_error]
        if refused:
            raise ManifestError(refused)
    except ManifestError as exc:
        raise UserError(exc.format()) from None
    _put_project_first(manifest)
    return planned.blueprint, planned.env_values


def _put_project_first(manifest: str) -> None:
    """Modal's `add_local_python_source` finds each handler package on sys.path when it deploys:
    the project's folders go first, so it ships the very files the planner checked."""
    import sys

    from engine.project.root import import_paths

    for folder in reversed(import_paths(manifest)):
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)


def local_files_root(blueprint: Blueprint) -> Path | None:
    """Where the images' local paths (`add_local_file` / `add_local_dir`) start: the project root
    of the planned manifest; None when no image adds local files."""
    if not any(step.op in ("add_local_file", "add_local_dir") for spec in blueprint.images for step in spec.steps):
        return None
    from engine.project.root import project_root

    return project_root(blueprint.source)
