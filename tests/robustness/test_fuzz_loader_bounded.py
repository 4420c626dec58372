"""A bounded fuzz pass: mutated manifests and random bytes load, or fail located, in time and memory.

The long run is fuzz_long.py beside this file; whatever it finds is saved in regressions/ and
replayed here.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("mdeploy_fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


def _assert_no_crash(results, failure, expected: int):
    assert failure is None, failure
    crashes = [r for r in results if r["outcome"] == "crash"]
    assert not crashes, crashes[:5]
    assert len(results) == expected


def test_fuzzed_inputs_load_or_fail_located_within_time_and_memory(tmp_path):
    inputs = fuzzing.write_inputs(tmp_path, 1500, seed=7)
    results, failure = fuzzing.run_worker(inputs, timeout=120)
    _assert_no_crash(results, failure, len(inputs))
    assert {r["outcome"] for r in results} >= {"ok", "manifest-error"}  # the mix really exercises both


def test_hostile_inputs_stay_within_bounds(tmp_path):
    hostile = {
        "deep-flow.yaml": "a: " + "[" * 200_000,
        "deep-block.yaml": "".join("  " * i + f"k{i}:\n" for i in range(3000)),
        "alias-bomb.yaml": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(10)
        ),
        "long-line.yaml": "a: " + "x" * 1_000_000,
        "deep.toml": "a = " + "[" * 200_000,
        "many-tables.toml": "".join(f"[t{i}]\nx = {i}\n" for i in range(60_000))[:1_000_000],
        "oversized.yaml": "a: " + "x" * 1_100_000,
    }
    paths = []
    for name, text in hostile.items():
        path = tmp_path / name
        path.write_text(text)
        paths.append(path)
    results, failure = fuzzing.run_worker(paths, timeout=120)
    _assert_no_crash(results, failure, len(paths))


def test_cli_validate_answers_fuzzed_files_without_a_traceback(tmp_path):
    inputs = fuzzing.write_inputs(tmp_path, 12, seed=11)
    env = {**os.environ, "PYTHONPATH": str(fuzzing.REPO)}
    env.pop("MODAL_ENVIRONMENT", None)
    env.pop("MDEPLOY_TRACEBACK", None)
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "validate", *map(str, inputs)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    if proc.returncode == 1:
        summary = proc.stdout.splitlines()[-1] if proc.stdout else ""
        assert " failed, " in summary or proc.stderr.startswith("error: "), proc.stdout[-2000:] + proc.stderr


def test_every_saved_regression_input_loads_or_fails_located():
    saved = sorted(p for p in fuzzing.REGRESSIONS.iterdir() if p.suffix in (".yaml", ".toml"))
    if not saved:
        return  # nothing found yet; the harness itself is exercised by the tests above
    results, failure = fuzzing.run_worker(saved, timeout=120)
    _assert_no_crash(results, failure, len(saved))
    for path in saved:
        if path.suffix == ".yaml":
            text = path.read_bytes().decode("utf-8", "replace")
            assert fuzzing.yaml_paths_disagree(text) is None, path.name
