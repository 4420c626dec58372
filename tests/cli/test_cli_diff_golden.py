"""Golden diffs, end to end through the CLI: for every shipped manifest with an overlay, what
`mdeploy diff MANIFEST --env ENV --against-env main` prints (the base -> ENV change a reviewer reads
on a pull request), as text and markdown, pinned under tests/cli/golden/diff/.

Regenerate with the same flag as the other golden files and review the diff:

    MDEPLOY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/cli/test_cli_diff_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden" / "diff"
UPDATE = os.environ.get("MDEPLOY_UPDATE_GOLDEN") == "1"
SUFFIXES = {"text": "txt", "markdown": "md"}


def _cases() -> list[tuple[str, str]]:
    from engine.manifest.load import discover_manifests, environments_of

    return [
        (manifest.resolve().relative_to(REPO_ROOT).as_posix(), env)
        for manifest in discover_manifests([REPO_ROOT / "manifests"])
        for env in environments_of(manifest)
    ]


CASES = _cases()


def _golden(manifest: str, env: str, fmt: str) -> Path:
    return GOLDEN / f"{Path(manifest).stem}.{env}.{SUFFIXES[fmt]}"


@pytest.mark.parametrize("fmt", sorted(SUFFIXES))
@pytest.mark.parametrize(("manifest", "env"), CASES, ids=[f"{m}:{e}" for m, e in CASES])
def test_environment_diff_matches_golden(run_mdeploy, manifest, env, fmt):
    done = run_mdeploy("diff", manifest, "--env", env, "--against-env", "main", "--format", fmt)
    assert done.returncode == 0, done.stderr
    golden = _golden(manifest, env, fmt)
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(done.stdout, encoding="utf-8")
    assert golden.is_file(), f"no golden diff {golden.name}: rerun with MDEPLOY_UPDATE_GOLDEN=1"
    assert done.stdout == golden.read_text(encoding="utf-8")


def test_every_overlay_changes_something(run_mdeploy):
    """An overlay that changes nothing in the Blueprint is dead configuration."""
    for manifest, env in CASES:
        done = run_mdeploy("diff", manifest, "--env", env, "--against-env", "main", "--exit-code")
        assert done.returncode == 2, (manifest, env, done.stdout, done.stderr)


def test_no_golden_diff_is_left_for_an_overlay_that_is_gone():
    expected = {_golden(m, e, fmt).name for m, e in CASES for fmt in SUFFIXES}
    present = {p.name for p in GOLDEN.glob("*")} if GOLDEN.is_dir() else set()
    assert present - expected == set()
