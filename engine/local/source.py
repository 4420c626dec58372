"""The Blueprint a local command works on: planned from a manifest, or read from a JSON file.

A `.json` argument is a Blueprint as `mdeploy plan --format json` prints it, so what was planned
(and reviewed) elsewhere can be served as it is; its env entries that came from `${VAR}`s hold the
manifest's text there, and run with that text. From a manifest, those entries get the values the
loader expanded, as a deploy gives the container (planner.PlannedApp.env_values).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from engine.blueprint.model import Blueprint, FunctionSpec, ServerSpec
from engine.errors import UserError

_Spec = TypeVar("_Spec", FunctionSpec, ServerSpec)


def is_blueprint_file(path: str | os.PathLike[str]) -> bool:
    """A Blueprint as `mdeploy plan --format json` wrote it (one environment's plan), not a manifest."""
    return str(path).endswith(".json")


def load_blueprint(path: str, env: str | None) -> Blueprint:
    environment = env or os.environ.get("MODAL_ENVIRONMENT") or None
    if is_blueprint_file(path):
        from engine.blueprint.codec import BlueprintDecodeError, from_json

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from None
        try:
            blueprint = from_json(text)
        except BlueprintDecodeError as exc:
            raise UserError(f"{path}: not a Blueprint: {exc}") from None
        if env and env != blueprint.environment:  # a Blueprint is one environment's plan, already made
            raise UserError(
                f"{path} is a Blueprint planned for environment {blueprint.environment!r}; --env {env} cannot "
                f"re-plan it: plan the manifest with --env {env}, or leave --env out"
            )
        return blueprint
    from engine.planner.plan import plan_file_with_origins

    planned = plan_file_with_origins(path, environment)
    return with_env_values(planned.blueprint, planned.env_values)


def with_env_values(blueprint: Blueprint, env_values: Mapping[tuple[str, str], Mapping[str, str]]) -> Blueprint:
    """`blueprint` with each env entry from a variable set to its value, for running it here."""

    def filled(collection: str, spec: _Spec) -> _Spec:
        values = env_values.get((collection, spec.key))
        if not values:
            return spec
        return replace(spec, container=replace(spec.container, env={**spec.container.env, **values}))

    return replace(
        blueprint,
        functions=tuple(filled("functions", f) for f in blueprint.functions),
        servers=tuple(filled("servers", s) for s in blueprint.servers),
    )
