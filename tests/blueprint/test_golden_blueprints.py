"""Golden Blueprints: every shipped manifest (manifests/) and every planner fixture
(tests/blueprint/data/), for the base environment and each environment with an overlay, planned
through the real loader and compared byte for byte with tests/blueprint/golden/.

Regenerate after an intended change, then review the diff like code:

    MDEPLOY_UPDATE_GOLDEN=1 .venv/bin/pytest -q tests/blueprint/test_golden_blueprints.py

Discovery is by file name, so a new manifest or overlay is picked up without touching this file
(and fails until its golden is written and reviewed).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.blueprint.codec import from_json, to_json
from engine.planner.defaults import DEFAULT_ENVIRONMENT
from engine.planner.plan import plan_file

REPO = Path(__file__).resolve().parents[2]
SOURCES = {"manifests": REPO / "manifests", "data": REPO / "tests" / "blueprint" / "data"}
GOLDEN = Path(__file__).resolve().parent / "golden"
SUFFIXES = (".yaml", ".yml", ".toml")
UPDATE = os.environ.get("MDEPLOY_UPDATE_GOLDEN") == "1"


def _bases(folder: Path) -> list[Path]:
    """Base manifests: `X.yaml`; an overlay is `X.ENV.yaml` beside a base `X.*`."""
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES) if folder.is_dir() else []
    stems = {p.stem for p in files}
    return [p for p in files if not ("." in p.stem and p.stem.rsplit(".", 1)[0] in stems)]


def _environments(base: Path) -> list[str | None]:
    """None (the base alone, planned as "main") and every environment with an overlay."""
    envs = {
        p.stem.rsplit(".", 1)[1]
        for p in base.parent.iterdir()
        if p.suffix in SUFFIXES and "." in p.stem and p.stem.rsplit(".", 1)[0] == base.stem
    }
    return [None, *sorted(envs)]


def _cases() -> list[tuple[str, Path, str | None]]:
    return [
        (group, base, env)
        for group, folder in SOURCES.items()
        for base in _bases(folder)
        for env in _environments(base)
    ]


def _golden_path(group: str, base: Path, env: str | None) -> Path:
    return GOLDEN / group / f"{base.stem}.{env or DEFAULT_ENVIRONMENT}.json"


CASES = _cases()


@pytest.mark.parametrize(
    ("group", "base", "env"), CASES, ids=[f"{g}/{b.name}:{e or DEFAULT_ENVIRONMENT}" for g, b, e in CASES]
)
def test_blueprint_matches_golden(group, base, env, monkeypatch):
    monkeypatch.chdir(REPO)  # `source` is the path as given: keep it repository-relative
    blueprint = plan_file(base.relative_to(REPO), env, environ={})
    text = to_json(blueprint) + "\n"
    golden = _golden_path(group, base, env)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.is_file(), f"no golden for {base.name} ({env}); run with MDEPLOY_UPDATE_GOLDEN=1 and review it"
    assert text == golden.read_text(encoding="utf-8"), f"{golden.relative_to(REPO)} differs; review, then regenerate"


def test_every_golden_file_has_a_manifest():
    expected = {_golden_path(g, b, e) for g, b, e in CASES}
    stale = sorted(str(p.relative_to(REPO)) for p in GOLDEN.rglob("*.json") if p not in expected)
    if UPDATE:
        for path in stale:
            (REPO / path).unlink()
        stale = []
    assert not stale, f"golden files without a manifest (delete them): {stale}"


def test_golden_files_are_valid_blueprints():
    files = sorted(GOLDEN.rglob("*.json"))
    assert files, "no golden Blueprints at all"
    for path in files:
        from_json(path.read_text(encoding="utf-8"))


def test_discovery_finds_the_shipped_manifests_and_their_overlays():
    names = {(g, b.name, e) for g, b, e in CASES}
    assert ("data", "kitchen-sink.yaml", "prod") in names
    assert ("data", "kitchen-sink.yaml", None) in names
    assert not any(b.endswith(".prod.yaml") for _g, b, _e in names)
