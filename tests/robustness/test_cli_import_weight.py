"""`mdeploy --help` never imports modal, torch or the engines. `mdeploy validate` plans (the engines
add rules of their own: a cache mount, a setting an engine cannot honour) and builds the planned
app's Modal objects offline (Modal's own client-side checks), so it imports the engines and modal,
but never torch or transformers; and modal only once a manifest has planned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("modal", "torch", "engine.engines", "transformers")

# Runs the CLI's main() the way `python -m engine` does, then reports what got imported.
_WRAPPER = r"""
import contextlib, io, json, sys
from engine.cli.main import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imported_by(*argv: str) -> tuple[int, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MODAL_ENVIRONMENT", None)
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *argv], capture_output=True, text=True, cwd=REPO, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    return report["code"], report["modules"]


def _heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def test_help_does_not_import_modal_torch_or_engines():
    code, modules = _imported_by("--help")
    assert code == 0
    assert not _heavy(modules), _heavy(modules)


@pytest.mark.parametrize(
    "argv",
    [["validate", "manifests/chat.yaml"], ["validate", "--all-envs", "manifests"]],
    ids=["validate-one", "validate-all-envs"],
)
def test_validate_imports_modal_but_not_torch(argv):
    code, modules = _imported_by(*argv)
    assert code == 0
    heavy = [m for m in _heavy(modules) if not m.startswith(("engine.engines", "modal"))]
    assert not heavy, heavy
    assert "modal" in modules  # the check above can fail: Modal's checks ran


def test_validate_of_a_manifest_that_does_not_plan_does_not_import_modal():
    code, modules = _imported_by("validate", "tests/manifest/data/mistakes/several.yaml")
    assert code == 1
    assert "modal" not in modules


def test_plan_does_import_the_engines():
    """The check above can fail: a command that needs the engines does show them."""
    code, modules = _imported_by("plan", "manifests/chat.yaml")
    assert code == 0
    assert "engine.engines" in {m.rsplit(".", 1)[0] for m in modules} or any(
        m.startswith("engine.engines") for m in modules
    )
