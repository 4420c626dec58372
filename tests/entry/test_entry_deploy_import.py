"""`modal deploy engine/entry.py` imports the entry through modal.cli.import_refs: it must find the
app for every shipped manifest, and explain a missing or invalid manifest in one message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("import_like_modal_deploy.py")


def _shipped_manifests() -> list[Path]:
    """Base manifests only: an overlay is named NAME.ENV.yaml|toml."""
    return sorted(p for p in (REPO / "manifests").iterdir() if p.suffix in (".yaml", ".toml") and "." not in p.stem)


def _import_like_modal_deploy(env: dict[str, str]) -> dict:
    full_env = {k: v for k, v in os.environ.items() if k not in ("MDEPLOY_MANIFEST", "MODAL_ENVIRONMENT", "PYTHONPATH")}
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, "-B", str(SCRIPT)], cwd=REPO, env=full_env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("manifest", _shipped_manifests(), ids=lambda p: p.name)
def test_modal_import_finds_the_app_of_every_shipped_manifest(manifest):
    from engine.planner.plan import plan_file

    blueprint = plan_file(manifest, None)
    report = _import_like_modal_deploy({"MDEPLOY_MANIFEST": str(manifest.relative_to(REPO))})
    assert report.get("app") == blueprint.app, report
    # Modal registers servers as functions too, under their names; a class as its class service
    # function `Name.*` and as a class `Name`.
    functions = [f.name + (".*" if f.cls is not None else "") for f in blueprint.functions]
    assert report["functions"] == sorted(functions + [s.name for s in blueprint.servers])
    assert report["classes"] == sorted(f.name for f in blueprint.functions if f.cls is not None)


def test_modal_import_without_manifest_variable_names_it():
    report = _import_like_modal_deploy({})
    assert report["error"] == "UserError"
    assert "MDEPLOY_MANIFEST is not set" in report["message"]
    assert not report["chained"]


def test_modal_import_of_invalid_manifest_shows_located_problems_unchained(tmp_path):
    manifest = tmp_path / "broken.yaml"
    manifest.write_text("version: 1\napp: broken\nservise: {}\n")
    report = _import_like_modal_deploy({"MDEPLOY_MANIFEST": str(manifest)})
    assert report["error"] == "UserError"
    assert "broken.yaml:3:1: servise:" in report["message"], report
    assert not report["chained"]


def test_modal_import_sends_env_values_from_variables_but_the_blueprint_keeps_the_reference(tmp_path):
    (tmp_path / "setup.cfg").write_text("")  # a project of its own, holding the handler's module
    (tmp_path / "workloads").mkdir()
    (tmp_path / "workloads" / "__init__.py").write_text("")
    (tmp_path / "workloads" / "pipeline.py").write_text("def discover():\n    return []\n")
    manifest = tmp_path / "vars.yaml"
    manifest.write_text(
        "version: 1\napp: vars\nfunctions:\n  job:\n    handler: workloads.pipeline:discover\n"
        "    env: {STAGE: '${STAGE_NAME:-dev}', HOST: 'db-${STAGE_NAME}.internal'}\n"
    )
    report = _import_like_modal_deploy({"MDEPLOY_MANIFEST": str(manifest), "STAGE_NAME": "stagingzq"})
    assert report["env"]["job"]["STAGE"] == "stagingzq" and report["env"]["job"]["HOST"] == "db-stagingzq.internal"

    from engine.blueprint.codec import to_json
    from engine.planner.plan import plan_file

    blueprint_json = to_json(plan_file(manifest, None, {"STAGE_NAME": "stagingzq"}))
    assert "stagingzq" not in blueprint_json and "${STAGE_NAME:-dev}" in blueprint_json


def test_modal_ships_the_handler_package_of_the_manifests_project(tmp_path):
    """The deploy runs from the repository, which has a `workloads` package of its own; the
    manifest's project has another. Validation read the project's file, so Modal must ship it."""
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "workloads").mkdir()
    (tmp_path / "workloads" / "__init__.py").write_text("")
    (tmp_path / "workloads" / "tasks.py").write_text("def run(item):\n    return item\n")
    (tmp_path / "deploy").mkdir()
    manifest = tmp_path / "deploy" / "app.yaml"
    manifest.write_text("version: 1\napp: elsewhere\nfunctions:\n  work:\n    handler: workloads.tasks:run\n")
    report = _import_like_modal_deploy(
        {"MDEPLOY_MANIFEST": str(manifest), "MDEPLOY_TEST_MOUNTED_PACKAGES": "workloads"}
    )
    assert report["functions"] == ["work"], report
    assert report["mounted"]["workloads"] == [str((tmp_path / "workloads").resolve())]
