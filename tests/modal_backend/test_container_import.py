"""Playing Modal's container: a fresh process with only MDEPLOY_BLUEPRINT set imports the entry
module by the name Modal recorded, finds every function and server by its implementation name,
pairs the same dependencies in the same order, and never imports the manifest stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.blueprint.codec import ENV_VAR, encode_for_env
from tests.modal_backend.blueprints import ENV_VALUES, all_blueprints
from tests.modal_backend.introspect import build_into_module, dependency_reprs, env_secret_values, load_closure

REPO = Path(__file__).resolve().parents[2]
PLAYER = Path(__file__).with_name("play_container.py")


def _container_root(tmp_path: Path) -> Path:
    """/root of a container: entry.py (Modal's entrypoint mount) beside the packages the image adds."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "entry.py").write_text((REPO / "engine" / "entry.py").read_text())
    for package in ("engine", "workloads"):
        (root / package).symlink_to(REPO / package, target_is_directory=True)
    return root


@pytest.fixture(scope="module", params=sorted(all_blueprints()))
def played(request, tmp_path_factory):
    name = request.param
    blueprint = all_blueprints()[name]
    # As on the deploying machine: env entries from variables get their values (ENV_VALUES); the
    # played container has only MDEPLOY_BLUEPRINT, whose env holds the manifest's `${...}` text.
    _app, module = build_into_module(blueprint, f"mdeploy_local_{name}", env_values=ENV_VALUES.get(name))
    targets, local_deps = [], {}
    for spec in [*blueprint.functions, *blueprint.servers]:
        obj = getattr(module, spec.symbol)
        info = load_closure(obj)["info"]
        targets.append(
            {
                "module_name": info.module_name,
                "implementation_name": info.implementation_name,
                "function_name": info.function_name,
                "is_server": spec in blueprint.servers,
                "is_class": getattr(spec, "cls", None) is not None,
            }
        )
        local_deps[info.implementation_name] = dependency_reprs(obj)
    signatures = [f.symbol for f in blueprint.functions if f.batching or (f.web and f.web.kind == "fastapi_endpoint")]
    root = _container_root(tmp_path_factory.mktemp(name))
    env = {ENV_VAR: encode_for_env(blueprint), "PYTHONPATH": str(root), "HOME": str(root)}
    result = subprocess.run(
        [sys.executable, "-B", str(PLAYER), json.dumps({"targets": targets, "signatures": signatures})],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return blueprint, targets, local_deps, json.loads(result.stdout.strip().splitlines()[-1])


def test_container_records_entry_module_name(played):
    _blueprint, targets, _deps, _report = played
    assert {t["module_name"] for t in targets} == {"entry"}


def test_container_finds_every_function_and_server(played):
    blueprint, targets, _deps, report = played
    assert sorted(report["found"]) == sorted(t["implementation_name"] for t in targets)
    servers = {f"{s.symbol}.*" for s in blueprint.servers}
    classes = {f"{f.symbol}.*" for f in blueprint.functions if f.cls is not None}
    for implementation_name, found in report["found"].items():
        expected = (
            "_Server" if implementation_name in servers else "_Cls" if implementation_name in classes else "function"
        )
        assert found["type"] == expected


def test_container_pairs_the_same_dependencies_in_the_same_order(played):
    _blueprint, _targets, local_deps, report = played
    assert {name: found["deps"] for name, found in report["found"].items()} == local_deps


def test_container_does_not_import_the_manifest_stack_nor_the_engine_runtime(played):
    _blueprint, _targets, _deps, report = played
    assert report["heavy_modules"] == []


def test_container_exposes_the_handler_signature_to_fastapi_and_batching(played):
    blueprint, _targets, _deps, report = played
    expected = {"embed": "(texts: list[str]) -> list[list[float]]", "embed_http": "(item: dict) -> dict"}
    for spec in blueprint.functions:
        if spec.batching or (spec.web and spec.web.kind == "fastapi_endpoint"):
            assert report["found"][spec.symbol]["signature"] == expected[spec.symbol]


def test_env_values_from_variables_reach_the_deployed_env_secret_only():
    """The deploying side sends the values; the Blueprint (and so the container) holds the text."""
    name = "web_env_from_variables"
    blueprint = all_blueprints()[name]
    _app, deployed = build_into_module(blueprint, "mdeploy_env_deployed", env_values=ENV_VALUES[name])
    _app, container = build_into_module(blueprint, "mdeploy_env_container", in_container=True)
    sent = env_secret_values(deployed.api)
    assert sent["NOTES_STAGE"] == "prod" and sent["NOTES_HOST"] == "db-prod.internal"
    assert env_secret_values(container.api)["NOTES_STAGE"] == "${STAGE:-dev}"
    assert "prod" not in encode_for_env(blueprint)
    assert dependency_reprs(deployed.api) == dependency_reprs(container.api)
