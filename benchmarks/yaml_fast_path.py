"""Is the libyaml fast path (engine/manifest/yaml_events.py) worth keeping? Its cost is risk: a
second parser, with a list of where it may disagree with ruamel's YAML 1.2 parser. Its benefit,
measured here side by side in one process, on the manifests of benchmarks/validate_throughput.py:

1. reading the YAML files alone (`read_layer`): libyaml's events, then ruamel's pure events;
2. loading and planning every manifest with each of its environments (what `mdeploy validate
   --all-envs` does per file, after start-up), with each event source.

The two sources alternate, `--repeat` times each; the best CPU time (`time.process_time`) of each
counts, so other load on the machine shows less than in wall time. Prints both and their ratio.

    .venv/bin/python benchmarks/yaml_fast_path.py                 # 200 manifests, 5 rounds
    .venv/bin/python benchmarks/yaml_fast_path.py --count 20 --repeat 1   # a smoke run
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from validate_throughput import write_repository  # noqa: E402

from engine.manifest import yaml_reader  # noqa: E402
from engine.manifest.yaml_events import pure_events, yaml_events  # noqa: E402

SOURCES = {"libyaml fast path": yaml_events, "pure ruamel": pure_events}


def _best_cpu(work: Callable[[], None], source: Callable, rounds: list[float]) -> None:
    yaml_reader.yaml_events = source
    started = time.process_time()
    work()
    rounds.append(time.process_time() - started)


def measure(root: Path, bases: list[Path], repeat: int) -> dict[str, dict[str, float]]:
    from engine.manifest.errors import ManifestError
    from engine.manifest.load import environments_of, read_layer
    from engine.planner.plan import load_and_plan

    yaml_files = sorted(root.rglob("*.yaml"))  # bases and overlays

    def read_all() -> None:
        for path in yaml_files:
            read_layer(path)

    def validate_all() -> None:
        for path in bases:
            for env in (None, *environments_of(path)):
                try:
                    load_and_plan(path, env, {})
                except ManifestError:
                    pass  # a generated manifest may be refused; the same for both sources

    results: dict[str, dict[str, list[float]]] = {name: {"read": [], "validate": []} for name in SOURCES}
    original = yaml_reader.yaml_events
    try:
        for _ in range(repeat):
            for name, source in SOURCES.items():
                _best_cpu(read_all, source, results[name]["read"])
                _best_cpu(validate_all, source, results[name]["validate"])
    finally:
        yaml_reader.yaml_events = original
    return {name: {step: min(times) for step, times in steps.items()} for name, steps in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200, help="manifests to generate (default: 200)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each source (default: 5)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mdeploy-yaml-") as folder:
        bases = write_repository(Path(folder), args.count)
        yaml_count = len(list(Path(folder).rglob("*.yaml")))
        results = measure(Path(folder), bases, args.repeat)
    fast, pure = results["libyaml fast path"], results["pure ruamel"]
    print(f"{args.count} manifests ({yaml_count} YAML files), best CPU time of {args.repeat} alternated rounds:")
    for step, label in (("read", "read the YAML files"), ("validate", "load + plan every environment")):
        print(
            f"  {label:30} fast {fast[step]:6.2f} s   pure {pure[step]:6.2f} s   pure/fast {pure[step] / fast[step]:4.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
