"""What engine/entry.py does inside a Modal container: the Blueprint from MDEPLOY_BLUEPRINT alone.

Standard library + the Blueprint codec only; never the manifest package, the engines, the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from engine.blueprint.codec import ENV_VAR, BlueprintDecodeError, decode_from_env
from engine.blueprint.model import Blueprint


class ContainerBlueprintError(RuntimeError):
    """The container did not receive a usable Blueprint (a deploy/mdeploy version problem)."""


def blueprint_in_container(environ: Mapping[str, str] | None = None) -> Blueprint:
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR)
    if not value:
        raise ContainerBlueprintError(
            f"{ENV_VAR} is not set in this container: the app was not deployed through engine/entry.py "
            "with mdeploy (its app-level secret carries the Blueprint)"
        )
    try:
        return decode_from_env(value)
    except BlueprintDecodeError as exc:
        raise ContainerBlueprintError(f"{ENV_VAR} does not hold a usable Blueprint: {exc}") from None
