"""The long fuzz run: batches of fuzz inputs until time is up; every crasher is saved for the suite.

Each batch is written to a scratch folder and checked by the worker of fuzzing.py (address-space
limit, per-input time limit, a whole-batch timeout for hangs). An input that crashes, breaks the
time or memory bound, or makes the libyaml fast path disagree with the pure YAML parser is copied
to tests/robustness/regressions/, which test_fuzz_loader_bounded.py replays on every run.

    .venv/bin/python tests/robustness/fuzz_long.py --minutes 30
    .venv/bin/python tests/robustness/fuzz_long.py --minutes 5 --seed 1000 --batch 5000
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

_spec = importlib.util.spec_from_file_location("mdeploy_fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


def _check_batch(inputs: list[Path]) -> list[tuple[Path, str]]:
    """(input, why) for every input of the batch that failed, re-running the rest after a death."""
    found = []
    remaining = inputs
    while remaining:
        results, failure = fuzzing.run_worker(remaining, timeout=60 + 5 * len(remaining) * fuzzing.TIME_LIMIT_S / 50)
        found += [(Path(r["file"]), r["detail"]) for r in results if r["outcome"] == "crash"]
        if failure is None:
            break
        dead = Path(failure["file"]) if failure["file"] else remaining[len(results)]
        found.append((dead, failure["detail"]))
        remaining = remaining[remaining.index(dead) + 1 :]
    for path in inputs:
        if path.suffix == ".yaml":
            why = fuzzing.yaml_paths_disagree(path.read_bytes().decode("utf-8", "replace"))
            if why:
                found.append((path, "YAML paths disagree:\n" + why))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="first batch seed (default: the clock)")
    parser.add_argument("--batch", type=int, default=2000, help="inputs per batch (default 2000)")
    args = parser.parse_args(argv)

    deadline = time.monotonic() + args.minutes * 60
    seed, checked, saved = args.seed, 0, []
    scratch = Path(tempfile.mkdtemp(prefix="mdeploy-fuzz-"))
    try:
        while time.monotonic() < deadline:
            folder = scratch / str(seed)
            inputs = fuzzing.write_inputs(folder, args.batch, seed)
            for path, why in _check_batch(inputs):
                target = fuzzing.save_regression(path)
                saved.append(target)
                print(f"seed {seed}: {target.name}: {why}", flush=True)
            checked += len(inputs)
            shutil.rmtree(folder, ignore_errors=True)
            print(f"seed {seed}: {checked} inputs checked, {len(saved)} saved", flush=True)
            seed += 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"done: {checked} inputs, {len(saved)} crashers saved to {fuzzing.REGRESSIONS}")
    return 1 if saved else 0


if __name__ == "__main__":
    sys.exit(main())
