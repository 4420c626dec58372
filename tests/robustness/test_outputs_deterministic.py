"""Every output (Blueprint JSON, plan in each format, diff in each format, ejected source, explain,
schema and validate's report) is byte-identical across runs and PYTHONHASHSEED values.

One fresh process per hash seed renders everything for every shipped manifest and environment
through the public entry points; the outputs are compared whole.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_SCRIPT = r"""
import contextlib, io, json, sys
from pathlib import Path
from engine.blueprint.codec import to_json
from engine.planner.plan import plan_file_with_origins
from engine.cli.main import main as cli
from engine.eject.render import render_app
from engine.manifest.load import discover_manifests, environments_of
from engine.manifest.schema import manifest_json_schema
from engine.plan.diff import diff_blueprints
from engine.plan.render_diff import render_diff
from engine.plan.render_plan import render_plan

out = {}
for base in discover_manifests([Path("manifests"), Path("tests/blueprint/data")]):
    envs = ["main", *environments_of(base)]
    plans = {}
    for env in envs:
        try:
            planned = plan_file_with_origins(base, env, environ={})
            bp = planned.blueprint
        except Exception as exc:  # a fixture another change broke: its message must be stable too
            out[f"{base}:{env}:error"] = f"{type(exc).__name__}: {exc}"
            continue
        plans[env] = planned
        out[f"{base}:{env}:blueprint"] = to_json(bp)
        for fmt in ("text", "markdown", "json"):
            out[f"{base}:{env}:plan:{fmt}"] = render_plan(bp, fmt, origins=planned.origins)
        out[f"{base}:{env}:eject"] = render_app(bp)
    for env in envs[1:]:
        if "main" in plans and env in plans:
            old, new = plans["main"], plans[env]
            diff = diff_blueprints(old.blueprint, new.blueprint, old_origins=old.origins, new_origins=new.origins)
            for fmt in ("text", "markdown", "json"):
                out[f"{base}:main->{env}:diff:{fmt}"] = render_diff(diff, fmt)
out["schema"] = json.dumps(manifest_json_schema(), indent=2)
for argv in (["validate", "--all-envs", "manifests"], ["explain", "manifests/chat.yaml", "--env", "prod", "services.llama.scaling.max_containers"]):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        code = cli(argv)
    out[" ".join(argv)] = f"{code}\n{buffer.getvalue()}"
sys.stdout.write(json.dumps(out))
"""


def _render_everything(seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
    env.pop("MODAL_ENVIRONMENT", None)
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_every_rendered_output_is_byte_identical_across_hash_seeds():
    first = _render_everything("0")
    assert sum(key.endswith(":eject") for key in first) >= 10  # the run really rendered the manifests
    assert any(":diff:" in key for key in first)
    for seed in ("1", "982451653"):
        other = _render_everything(seed)
        assert other.keys() == first.keys()
        changed = [key for key in first if first[key] != other[key]]
        assert not changed, f"PYTHONHASHSEED={seed} changed: {changed[:5]}"
