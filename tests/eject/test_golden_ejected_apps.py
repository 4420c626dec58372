"""Golden ejected apps: every shipped manifest, base and each environment with an overlay, ejected
and pinned under tests/eject/golden/; each also builds the same app as engine/entry.py does.

Regenerate with `MDEPLOY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/eject` and review the diff: it is
exactly what `mdeploy eject` writes.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MDEPLOY_UPDATE_GOLDEN") == "1"

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _cases() -> list[tuple[str, str | None]]:
    from engine.manifest.load import discover_manifests, environments_of

    cases = []
    for manifest in discover_manifests([REPO_ROOT / "manifests"]):
        relative = Path(manifest).resolve().relative_to(REPO_ROOT).as_posix()
        cases += [(relative, None)] + [(relative, env) for env in environments_of(Path(manifest))]
    return cases


CASES = _cases()
IDS = [f"{m}:{e or 'base'}" for m, e in CASES]


def _plan(manifest: str, env: str | None, monkeypatch):
    from engine.planner.plan import plan_file

    monkeypatch.chdir(REPO_ROOT)  # the Blueprint's source is the path as given
    monkeypatch.delenv("MODAL_ENVIRONMENT", raising=False)
    return plan_file(Path(manifest), env)


@pytest.mark.parametrize(("manifest", "env"), CASES, ids=IDS)
def test_ejected_app_matches_golden(manifest, env, monkeypatch):
    from engine.eject.render import render_app

    source = render_app(_plan(manifest, env, monkeypatch))
    golden = GOLDEN / f"{Path(manifest).stem}.{env or 'base'}.py.txt"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(source, encoding="utf-8")
    assert golden.exists(), f"no golden {golden.name}: run with MDEPLOY_UPDATE_GOLDEN=1 and review it"
    assert source == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(("manifest", "env"), CASES, ids=IDS)
def test_ejected_shipped_manifest_builds_the_entry_app(manifest, env, monkeypatch, import_source, read_back):
    from engine.eject.render import render_app
    from engine.modal_backend.app import build_app

    blueprint = _plan(manifest, env, monkeypatch)
    ejected = import_source(render_app(blueprint))
    module_name = f"entry_golden_{Path(manifest).stem.replace('-', '_')}_{env or 'base'}"
    module = types.ModuleType(module_name)
    sys.modules[module_name] = module
    entry_app = build_app(blueprint, module.__dict__, module_name, in_container=False)
    assert read_back(ejected.app) == read_back(entry_app)
