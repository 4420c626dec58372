"""The Blueprint a local command works on: planned from a manifest, or read from a JSON file.

A `.json` argument is a Blueprint as `mdeploy plan --format json` prints it, so what was planned
(and reviewed) elsewhere can be served as it is.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.blueprint.model import Blueprint
from engine.errors import UserError


def load_blueprint(path: str, env: str | None) -> Blueprint:
    environment = env or os.environ.get("MODAL_ENVIRONMENT") or None
    if path.endswith(".json"):
        from engine.blueprint.codec import BlueprintDecodeError, from_json

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot read {path}: {exc.strerror}") from None
        try:
            return from_json(text)
        except BlueprintDecodeError as exc:
            raise UserError(f"{path}: not a Blueprint: {exc}") from None
    from engine.blueprint.planner import plan_file

    return plan_file(path, environment)
