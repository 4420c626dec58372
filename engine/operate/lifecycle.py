"""The calls that change what is deployed: the deploy strategy and the rollback.

`modal deploy --strategy rolling` (Modal's default) replaces containers gradually; `recreate`
stops the old ones first. `modal app rollback APP [vN]` redeploys an earlier version (the
previous one without a version) as a new entry of the app's history.
"""

from __future__ import annotations

import re

from engine.errors import UserError
from engine.operate.modal_cli import ModalCall, call, env_args
from engine.operate.names import ModalNames

STRATEGIES = ("rolling", "recreate")  # modal/runner.py DEPLOYMENT_STRATEGY_TYPE
_VERSION = re.compile(r"^v?([1-9][0-9]*)$")


def version_argument(version: str) -> str:
    """ "3" or "v3" -> "v3", the form `modal app rollback` accepts."""
    match = _VERSION.match(version.strip())
    if not match:
        raise UserError(f"{version!r} is not a version: give a number from `mdeploy history`, like 3 or v3")
    return f"v{match.group(1)}"


def rollback_call(names: ModalNames, version: str | None, strategy: str | None) -> ModalCall:
    return call(
        "app",
        "rollback",
        names.app,
        version_argument(version) if version else None,
        *(("--strategy", strategy) if strategy else ()),
        *env_args(names.env),
    )
