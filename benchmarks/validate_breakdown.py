"""Where `mdeploy validate DIR`'s CPU time goes, per phase and per manifest, in one process.

Runs the same steps as one check of `mdeploy validate` (engine/cli/validate.py `_check`) over
every base manifest of DIR, with CPU time (time.process_time) around each phase, `--rounds`
times; prints the best round's figures:

    imports   engine (CLI, loader, models, planner) and modal, once per process
    load      reading the file(s): YAML/TOML with positions, overlay merge, interpolation
    rules     the models and value rules (collect_problems), the secret scan
    plan      the planner, the engine's rules, the project's handler modules (read, not run)
    modal     building the app offline with Modal's client (offline_build.py)

    .venv/bin/python benchmarks/validate_throughput.py --keep /tmp/bench   # generate once
    .venv/bin/python benchmarks/validate_breakdown.py /tmp/bench      # run it a few times
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=1, help="rounds in this process (later ones find warm caches)")
    args = parser.parse_args(argv)

    start = time.process_time()
    from engine.manifest.load import discover_manifests, load_merged
    from engine.manifest.validate import LoadedManifest, collect_problems
    from engine.planner.plan import plan_loaded

    engine_imports = time.process_time() - start
    start = time.process_time()
    from engine.modal_backend.modal_problems import modal_problems

    modal_imports = time.process_time() - start
    gc.collect()
    gc.freeze()  # as validate does for a run of many checks (validate_pool.py)

    paths = discover_manifests([args.folder])
    best: dict[str, float] | None = None
    for _ in range(args.rounds):
        spent = dict.fromkeys(("load", "rules", "plan", "modal"), 0.0)
        for path in paths:
            t0 = time.process_time()
            merged = load_merged(path, None)
            t1 = time.process_time()
            manifest, problems = collect_problems(merged)
            t2 = time.process_time()
            if manifest is None:
                spent["load"] += t1 - t0
                spent["rules"] += t2 - t1
                continue
            loaded = LoadedManifest(manifest=manifest, merged=merged, environment=None, source=path.as_posix())
            planned = plan_loaded(loaded)
            t3 = time.process_time()
            modal_problems(loaded, planned)
            t4 = time.process_time()
            for phase, seconds in zip(spent, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                spent[phase] += seconds
        if best is None or sum(spent.values()) < sum(best.values()):
            best = spent
    assert best is not None
    count = len(paths)
    print(f"{count} manifests, best of {args.rounds} rounds (CPU time)")
    print(f"imports   engine {engine_imports:.2f} s, modal and the backend {modal_imports:.2f} s (once)")
    for phase, seconds in best.items():
        print(f"{phase:9s} {seconds:6.2f} s  {1000 * seconds / count:5.2f} ms/manifest")
    total = sum(best.values())
    print(f"{'checks':9s} {total:6.2f} s  {1000 * total / count:5.2f} ms/manifest")
    return 0


if __name__ == "__main__":
    sys.exit(main())
