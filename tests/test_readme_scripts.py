"""The scripts the README tells people to run (benchmarks, the long fuzz, the tiny-model
generator, run as a module) run: each shown command is found in the README and run here with
small numbers.

They are smoke runs, not measurements: the figures the README quotes come from full runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()

# script shown in the README -> the arguments of a quick run here (a `{tmp}` is a scratch folder)
QUICK_RUNS = {
    "benchmarks/cold_start.py": ["--manifest", "manifests/chat.yaml", "--env", "prod", "--runs", "1"],
    "benchmarks/validate_throughput.py": ["--count", "6", "--repeat", "1"],
    "benchmarks/bench_overhead.py": ["--quick"],
    "benchmarks/yaml_fast_path.py": ["--count", "4", "--repeat", "1"],
    "tests/robustness/fuzz_long.py": ["--minutes", "0.01", "--batch", "40", "--seed", "7"],
    "-m engine.local.tiny_model": ["{tmp}/tiny-chat"],
}


def shown_scripts() -> set[str]:
    return set(re.findall(r"python (\S+\.py)", README)) | set(re.findall(r"python (-m engine\.\S+)", README))


def test_every_script_the_readme_shows_has_a_quick_run():
    assert shown_scripts() == set(QUICK_RUNS)


@pytest.mark.parametrize("script", sorted(QUICK_RUNS))
def test_script_runs(script, tmp_path):
    args = [a.replace("{tmp}", str(tmp_path)) for a in QUICK_RUNS[script]]
    done = subprocess.run(
        [sys.executable, *script.split(), *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert "Traceback" not in done.stderr

