"""Run as a script from the repository root: import engine/entry.py exactly as `modal deploy
engine/entry.py` does (modal.cli.import_refs) and print what it found, or the error, as JSON."""

from __future__ import annotations

import json
import os

from modal.cli.import_refs import import_app_from_ref, parse_import_ref


def main() -> None:
    try:
        app = import_app_from_ref(parse_import_ref("engine/entry.py"), base_cmd="modal deploy")
    except Exception as exc:  # modal wraps the import failure; report the cause, as the CLI shows it
        cause = exc.__cause__ or exc
        print(
            json.dumps(
                {
                    "error": type(cause).__name__,
                    "message": str(cause),
                    "chained": cause.__cause__ is not None
                    or not cause.__suppress_context__
                    and cause.__context__ is not None,
                }
            )
        )
        return
    state = app._local_state
    env = {name: _env_secret(function) for name, function in state.functions.items()}
    report = {
        "app": app.name,
        "functions": sorted(state.functions),
        "classes": sorted(state.classes),
        "env": {name: values for name, values in env.items() if values is not None},
    }
    # What Modal's add_local_python_source would ship for these packages, as it looks them up.
    packages = [p for p in os.environ.get("MDEPLOY_TEST_MOUNTED_PACKAGES", "").split(",") if p]
    if packages:
        from modal._utils.package_utils import get_module_mount_info

        report["mounted"] = {p: [str(path) for _, path in get_module_mount_info(p)] for p in packages}
    print(json.dumps(report))


def _env_secret(function) -> dict | None:
    """The values the function's `env=` secret (Secret.from_dict) would send at deploy."""
    for dep in function._deps(only_explicit_mounts=True):
        if repr(dep).startswith("Secret.from_dict(") and "MDEPLOY_BLUEPRINT" not in repr(dep):
            load = dep._load
            cells = dict(zip(load.__code__.co_freevars, (c.cell_contents for c in load.__closure__)))
            return cells["load_env_dict"]()
    return None


main()
