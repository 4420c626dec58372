"""Modal's own checks, located: what Modal's client says while the app is built offline, at the
manifest key that produced the value.

offline_build gives Blueprint paths; the planner's origins record (engine/blueprint/origins.py)
says which manifest key each Blueprint value came from; the validator's Locator gives that key's
`file:line:col`. Values that came from `${VAR}`s are shown as their references (as in every
other problem), and token shapes are redacted.

Run on the deploying machine only (validate; the deploy side of engine/entry.py), never in a
container: it reaches the manifest package.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine.blueprint.origins import BlueprintPath, Origins
from engine.modal_backend.offline_build import ModalComplaint, offline_complaints

if TYPE_CHECKING:
    from engine.planner.plan import PlannedApp

_ERROR_HINT = "Modal {version} checks this as the app is declared: `modal deploy` would stop here"
_WARNING_HINT = "Modal {version} warns about this as the app is declared; the deploy goes on"


def modal_problems(loaded: Any, planned: PlannedApp) -> list[Any]:
    """The located problems of Modal's client for one planned manifest (`loaded`: its
    LoadedManifest; `planned`: its PlannedApp), each a manifest Problem (a type of the manifest
    package, which this module reaches only through the planner)."""
    complaints = offline_complaints(planned.blueprint, planned.env_values)
    return [located(loaded.merged, planned.origins, complaint) for complaint in complaints]


def located(merged: Any, origins: Origins, complaint: ModalComplaint) -> Any:
    """One complaint as a Problem at the manifest key behind its Blueprint path."""
    import modal

    from engine.planner.errors import problem

    hint = (_ERROR_HINT if complaint.severity == "error" else _WARNING_HINT).format(version=modal.__version__)
    found = problem(merged, manifest_key(origins, complaint.path), f"Modal's client: {complaint.message}", hint)
    return replace(found, severity=complaint.severity)


def manifest_key(origins: Origins, path: BlueprintPath) -> BlueprintPath:
    """The manifest key behind the Blueprint value at `path`: the first source of its origin, or of
    the nearest ancestor that has one; the app's name when none does."""
    for cut in range(len(path), 0, -1):
        origin = origins.get(path[:cut])
        if origin is not None and origin.sources:
            return tuple(origin.sources[0].key)
    return ("app",)
