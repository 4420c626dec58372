"""`mdeploy validate` over the rule manifests of tests/manifest/data/project/rules, run once.

Each manifest there holds one mistake (or, `handler_reexports_resolve.yaml`, none); the project
around them (a `setup.cfg` marks its root) holds the handler modules they name. The CLI runs once
per test process, over the whole folder, and each test reads the lines of its own file:
`report("x.yaml")` -> {"summary": [its ok/FAIL line], "problems": [its problem lines, without
the path], "returncode": the run's exit status}. The `rule_report` fixture (tests/conftest.py)
hands `report` to the tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RULES = "tests/manifest/data/project/rules"


@cache
def _run() -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "engine", "validate", RULES],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def report(name: str) -> dict:
    done = _run()
    assert "Traceback" not in done.stderr, done.stderr
    prefix = f"{RULES}/{name}"
    summary = [line for line in done.stdout.splitlines() if line.split(" ")[1:2] == [prefix]]
    assert summary, f"{prefix} was not validated: {done.stdout}"
    # validate prints every problem on stdout, under its file's ok/FAIL line.
    problems = [line[len(prefix) + 1 :] for line in done.stdout.splitlines() if line.startswith(prefix + ":")]
    return {"summary": summary, "problems": problems, "returncode": done.returncode}
