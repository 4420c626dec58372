"""Read back what a built app holds, offline: public `info()` first, Modal's private state where
`info()` is silent (autoscaler settings, snapshots, experimental options: where modal 1.6.4 keeps
each, read from the installed client)."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import modal
from modal._utils.async_utils import synchronizer

from engine.blueprint.model import Blueprint
from engine.modal_backend.app import build_app

ENTRY_FILE = Path(__file__).resolve().parents[2] / "engine" / "entry.py"


def build_into_module(blueprint: Blueprint, module_name: str, *, in_container: bool = False, env_values=None):
    """Build `blueprint` into a fresh module registered as `module_name` (Modal locates functions
    through sys.modules); returns (app, module). The module's file is engine/entry.py, as in a deploy.
    `env_values`: the deploy side's values of env entries from variables (build_app's)."""
    module = types.ModuleType(module_name)
    module.__file__ = str(ENTRY_FILE)
    sys.modules[module_name] = module
    app = build_app(blueprint, module.__dict__, module_name, in_container=in_container, env_values=env_values)
    return app, module


def env_secret_values(obj: modal.Function | modal.Server) -> dict[str, str] | None:
    """What the function's `env=` secret (Modal's Secret.from_dict) would send at deploy."""
    for dep in service_function(obj)._deps(only_explicit_mounts=True):
        if repr(dep).startswith("Secret.from_dict(") and "MDEPLOY_BLUEPRINT" not in repr(dep):
            load = synchronizer._translate_in(dep)._load
            cells = dict(zip(load.__code__.co_freevars, (c.cell_contents for c in load.__closure__)))
            return cells["load_env_dict"]()
    return None


def service_function(obj: modal.Function | modal.Server) -> Any:
    """The private `_Function` behind a Function or a Server."""
    inner = synchronizer._translate_in(obj)
    if hasattr(inner, "_get_class_service_function"):  # a Cls (`kind: cls`)
        return inner._get_class_service_function()
    if hasattr(inner, "_get_service_function"):
        return inner._get_service_function()
    return inner


def load_closure(obj: modal.Function | modal.Server) -> dict[str, Any]:
    """The values Modal captured when the function was declared and sends at deploy time."""
    load = service_function(obj)._load
    return dict(zip(load.__code__.co_freevars, (cell.cell_contents for cell in load.__closure__)))


def dependency_reprs(obj: modal.Function | modal.Server) -> list[str]:
    """The objects the container pairs, by position, with the ids recorded at deploy."""
    return [repr(dep) for dep in service_function(obj)._deps(only_explicit_mounts=True)]
