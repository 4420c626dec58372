"""Cold-start cost of the generic entry vs a hand-written Modal module, as whole processes.

    .venv/bin/python benchmarks/cold_start.py [--manifest manifests/chat.yaml] [--env prod] [--runs 15]

Each run is a fresh Python process that does what a Modal container does first: with
`modal.is_local()` False (the task lifecycle singleton set, as in a container), import the entry
module. For mdeploy that is engine/entry.py, building the app from MDEPLOY_BLUEPRINT (the planned
manifest); the baseline is the same manifest's `mdeploy eject` output, the plain Modal file an
engineer would otherwise write by hand. Runs are interleaved (A, B, A, B, ...) so drift hits both
alike; the medians and their ratio are printed. Not a timed test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.blueprint.codec import ENV_VAR, encode_for_env  # noqa: E402
from engine.eject.render import render_app  # noqa: E402
from engine.planner.plan import plan_file  # noqa: E402

PLAY_CONTAINER = (
    "from modal._runtime.task_lifecycle_manager import _TaskLifecycleManager\n"
    "_TaskLifecycleManager._singleton = object()\n"
    "import importlib, sys\n"
    "importlib.import_module(sys.argv[1])\n"
)


def _container_root(tmp: Path, ejected_source: str) -> Path:
    """What /root holds in a container: the entry file and the packages the image adds."""
    root = tmp / "root"
    root.mkdir()
    shutil.copy(REPO / "engine" / "entry.py", root / "entry.py")
    (root / "handwritten.py").write_text(ejected_source)
    (root / "engine").symlink_to(REPO / "engine", target_is_directory=True)
    (root / "workloads").symlink_to(REPO / "workloads", target_is_directory=True)
    return root


def _run_once(module: str, root: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PLAY_CONTAINER, module], cwd=root, env=env, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", default="manifests/chat.yaml")
    parser.add_argument("--env", default="prod")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    blueprint = plan_file(Path(args.manifest), args.env)
    with tempfile.TemporaryDirectory() as tmp:
        root = _container_root(Path(tmp), render_app(blueprint))
        env = {"PATH": os.environ.get("PATH", ""), "HOME": tmp, "PYTHONPATH": str(root)}
        env[ENV_VAR] = encode_for_env(blueprint)
        for module in ("entry", "handwritten"):  # warm the OS file cache and .pyc files
            _run_once(module, root, env)
        times: dict[str, list[float]] = {"entry": [], "handwritten": []}
        for _ in range(args.runs):
            for module in times:
                times[module].append(_run_once(module, root, env))
    entry, handwritten = (statistics.median(times[m]) for m in ("entry", "handwritten"))
    print(f"{args.manifest} [{args.env}], runs: {args.runs} each, interleaved; python {sys.version.split()[0]}")
    print(f"engine/entry.py (from MDEPLOY_BLUEPRINT): median {entry * 1000:.0f} ms")
    print(f"ejected (hand-written style) module:      median {handwritten * 1000:.0f} ms")
    print(f"ratio entry / hand-written: {entry / handwritten:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
