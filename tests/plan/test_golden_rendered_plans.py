"""Golden rendered plans: every shipped manifest in manifests/, in every environment it has an
overlay for (and the base alone), rendered as text and markdown, pinned under tests/plan/golden/.

New manifests are picked up automatically. Regenerate with the planner's flag:

    MDEPLOY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/plan

and review the golden diff like any other change: it is exactly what `mdeploy plan` will print.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("MDEPLOY_UPDATE_GOLDEN") == "1"
SUFFIXES = {"text": "txt", "markdown": "md"}


def _cases() -> list[tuple[str, str | None]]:
    """(manifest path relative to the repository, environment or None) for every shipped pair."""
    from engine.manifest.load import discover_manifests, environments_of

    cases = []
    for manifest in discover_manifests([REPO_ROOT / "manifests"]):
        relative = Path(manifest).resolve().relative_to(REPO_ROOT).as_posix()
        cases += [(relative, None)] + [(relative, env) for env in environments_of(Path(manifest))]
    return cases


def _golden_name(manifest: str, env: str | None, fmt: str) -> str:
    return f"{Path(manifest).stem}.{env or 'base'}.{SUFFIXES[fmt]}"


CASES = _cases()


def test_manifests_are_shipped_and_discovered():
    assert CASES, "manifests/ holds no manifest: the golden plans would pin nothing"


@pytest.mark.parametrize("fmt", sorted(SUFFIXES))
@pytest.mark.parametrize(("manifest", "env"), CASES, ids=[f"{m}:{e or 'base'}" for m, e in CASES])
def test_rendered_plan_matches_golden(manifest, env, fmt, monkeypatch):
    from engine.plan.render_plan import render_plan
    from engine.planner.plan import plan_file_with_origins

    monkeypatch.chdir(REPO_ROOT)  # the Blueprint's source is the path as given: manifests/…
    monkeypatch.delenv("MODAL_ENVIRONMENT", raising=False)
    planned = plan_file_with_origins(Path(manifest), env)
    rendered = render_plan(planned.blueprint, fmt, origins=planned.origins)
    golden = GOLDEN / _golden_name(manifest, env, fmt)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.is_file(), f"no golden plan {golden.name}: run MDEPLOY_UPDATE_GOLDEN=1 .venv/bin/pytest tests/plan"
    assert rendered == golden.read_text(encoding="utf-8")


def test_no_golden_plan_is_left_for_a_manifest_that_is_gone():
    expected = {_golden_name(m, e, fmt) for m, e in CASES for fmt in SUFFIXES}
    present = {p.name for p in GOLDEN.glob("*")} if GOLDEN.is_dir() else set()
    if UPDATE:
        for stale in present - expected:
            (GOLDEN / stale).unlink()
        present &= expected
    assert present - expected == set()
