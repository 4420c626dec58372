"""Fixtures every test folder shares: where the repository is, and how to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# In CI, property tests replay the same examples on every run (a red CI must be reproducible and
# must not depend on luck); on a developer's machine they explore new random examples each run.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def run_mdeploy():
    """Run `mdeploy ARGS...` as a user would (a fresh process); returns the CompletedProcess."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | str | None = None, timeout: float = 120):
        full_env = dict(os.environ)
        full_env.pop("MODAL_ENVIRONMENT", None)
        full_env.pop("MDEPLOY_TRACEBACK", None)
        full_env["PYTHONPATH"] = str(REPO_ROOT)
        if env:
            full_env.update(env)
        return subprocess.run(
            [sys.executable, "-m", "engine", *args],
            cwd=cwd or REPO_ROOT,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def rule_report():
    """`report(name)`: what `mdeploy validate` says about one rule manifest of
    tests/manifest/data/project/rules (one run per session; see tests/support/rule_report.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mdeploy_support_rule_report", REPO_ROOT / "tests" / "support" / "rule_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.report
