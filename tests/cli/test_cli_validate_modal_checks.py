"""Modal's client-side checks through `mdeploy validate`, as a user meets them: one manifest per check
Modal 1.6.4 makes while the app is declared (app.py `function`/`server`, _functions.py `_from_local`,
partial functions, retries, names, tags, mount points, GPU strings), in one project, one run.

`by` says who refuses it:
- "modal": no rule of ours covers the case; the offline build reaches Modal's check and the
  problem is Modal's message at the manifest key (the point of this feature);
- "mdeploy": one of our rules refuses the value earlier, at the value, with our message; the
  Modal check behind it is still reached with that rule bypassed, in
  tests/modal_backend/test_modal_checks_located.py (the case named in `modal_case`).
Checks no manifest or Blueprint can trigger (wrapper shapes the backend fixes: nullary, sync,
no defaults; class-based servers) are listed in docs/validation.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FASTAPI_IMAGE = 'images:\n  api: {python: "3.12", pip: ["fastapi[standard]==0.115.6"]}\n'
LLM = (
    "services:\n  chat:\n    kind: llm\n    engine: vllm\n    gpu: L4\n"
    "    model: {id: Qwen/Qwen3-8B, revision: b968826d9c46dd6066d109eabc6255188de91218}\n"
)


def _function(body: str, head: str = "") -> str:
    return f"version: 1\napp: checks\n{head}functions:\n  work:\n    handler: jobs.tasks:process\n{body}"


# (name, manifest, by, expected line after the file name, Modal case it stands for)
CASES = [
    (
        "web_retries",
        _function("    image: api\n    web: {method: POST}\n    retries: 2\n", FASTAPI_IMAGE),
        "modal",
        "10:5: functions.work.retries: Modal's client: Web Functions do not support retries. (Modal 1.6.4 checks this as "
        "the app is declared: `modal deploy` would stop here)",
        "web_retries",
    ),
    (
        "scaledown_window",
        _function("    scaling: {scaledown_window: 1s}\n"),
        "mdeploy",
        "6:33: functions.work.scaling.scaledown_window: must be between 2 and 3600 seconds (got 1)",
        "scaledown_window",
    ),
    (
        "min_above_max",
        _function("    scaling: {min_containers: 3, max_containers: 2}\n"),
        "mdeploy",
        "6:31: functions.work.scaling.min_containers: min_containers (3) is above max_containers (2)",
        "min_above_max",
    ),
    (
        "retries_count",
        _function("    retries: -1\n"),
        "mdeploy",
        "6:14: functions.work.retries: must be at least 0 (got -1)",
        "retries_count",
    ),
    (
        "retries_backoff",
        _function("    retries: {count: 1, backoff: 20}\n"),
        "mdeploy",
        "6:34: functions.work.retries.backoff: must be at most 10.0 (got 20)",
        "retries_backoff",
    ),
    (
        "retries_initial_delay",
        _function("    retries: {count: 1, initial_delay: 90s}\n"),
        "mdeploy",
        "6:40: functions.work.retries.initial_delay: must be between 0 and 60 seconds (got 90)",
        "retries_initial_delay",
    ),
    (
        "retries_max_delay",
        _function("    retries: {count: 1, max_delay: 2m}\n"),
        "mdeploy",
        "6:36: functions.work.retries.max_delay: must be between 1 and 60 seconds (got 120)",
        "retries_max_delay",
    ),
    (
        "batch_size",
        _function("    batching: {max_batch_size: 5000, wait_ms: 10}\n"),
        "mdeploy",
        "6:32: functions.work.batching.max_batch_size: must be at most 1000 (got 5000)",
        "batch_size",
    ),
    (
        "batch_wait",
        _function("    batching: {max_batch_size: 5, wait_ms: 100000000}\n"),
        "mdeploy",
        "6:44: functions.work.batching.wait_ms: must be at most 600000 (got 100000000)",
        "batch_wait",
    ),
    (
        "concurrency_target_above_max",
        _function("    concurrency: {max_inputs: 4, target_inputs: 8}\n"),
        "mdeploy",
        "6:49: functions.work.concurrency.target_inputs: target_inputs (8) is above max_inputs (4)",
        "concurrency_target_above_max",
    ),
    (
        "gpu_count",
        _function('    gpu: "H100:x"\n'),
        "mdeploy",
        "6:10: functions.work.gpu: GPU count 'x' is not a number",
        "gpu_count",
    ),
    (
        "timeout_none",
        _function("    timeout: null\n"),
        "mdeploy",
        "6:14: functions.work.timeout: null is not allowed",
        "timeout_none",
    ),
    (
        "mount_at_root",
        _function("    volumes: {/root: v}\n", "volumes:\n  v: {name: data}\n"),
        "mdeploy",
        "8:15: functions.work.volumes[\"/root\"]: Modal cannot mount at '/root'",
        "mount_at_root",
    ),
    (
        "mount_at_tmp",
        _function("    volumes: {/tmp: v}\n", "volumes:\n  v: {name: data}\n"),
        "mdeploy",
        "8:15: functions.work.volumes[\"/tmp\"]: Modal cannot mount at '/tmp'",
        "mount_at_tmp",
    ),
    (
        "mount_not_canonical",
        _function("    volumes: {/data/: v}\n", "volumes:\n  v: {name: data}\n"),
        "mdeploy",
        '8:15: functions.work.volumes["/data/"]: a mount path must be written in canonical form',
        "mount_not_canonical",
    ),
    (
        "same_volume_twice",
        _function("    volumes: {/a: v, /b: v}\n", "volumes:\n  v: {name: data}\n"),
        "mdeploy",
        "8:26: functions.work.volumes[\"/b\"]: volume 'v' is already mounted at /a",
        "same_volume_twice",
    ),
    (
        "volume_name",
        _function("", 'volumes:\n  v: {name: "bad name"}\n'),
        "mdeploy",
        "4:13: volumes.v.name: is not a valid Modal name",
        "volume_name",
    ),
    (
        "dict_name",
        _function("", 'dicts:\n  d: {name: "bad name"}\n'),
        "mdeploy",
        "4:13: dicts.d.name: is not a valid Modal name",
        "dict_name",
    ),
    (
        "queue_name",
        _function("", 'queues:\n  q: {name: "bad name"}\n'),
        "mdeploy",
        "4:13: queues.q.name: is not a valid Modal name",
        "queue_name",
    ),
    (
        "tag",
        _function("", 'tags: {team: "plat form"}\n'),
        "mdeploy",
        "3:14: tags.team: is not a valid Modal tag",
        "tag",
    ),
    (
        "server_port",
        f"version: 1\napp: checks\n{LLM}    port: 70000\n",
        "mdeploy",
        "9:11: services.chat.port: must be at most 65535 (got 70000)",
        "server_port",
    ),
    (
        "server_startup_timeout",
        f"version: 1\napp: checks\n{LLM}    startup_timeout: 0s\n",
        "mdeploy",
        "9:22: services.chat.startup_timeout: must be between 1 and 86400 seconds (got 0)",
        "server_startup_timeout",
    ),
    (
        "server_target_above_max",
        f"version: 1\napp: checks\n{LLM}    concurrency: {{target: 64, max: 8}}\n",
        "mdeploy",
        "9:27: services.chat.concurrency.target: target (64) is above max (8)",
        "server_target_above_max",
    ),
    (
        "server_target_negative",
        f"version: 1\napp: checks\n{LLM}    concurrency: {{target: -1}}\n",
        "mdeploy",
        "9:27: services.chat.concurrency.target: must be at least 1 (got -1)",
        "server_target_negative",
    ),
    (
        "server_max_negative",
        f"version: 1\napp: checks\n{LLM}    concurrency: {{max: -1}}\n",
        "mdeploy",
        "9:24: services.chat.concurrency.max: must be at least 1 (got -1)",
        "server_max_negative",
    ),
    (
        "server_routing_region",
        f'version: 1\napp: checks\n{LLM}    routing_region: ""\n',
        "mdeploy",
        "9:21: services.chat.routing_region: is not a routing region Modal has",
        "server_routing_region",
    ),
    (
        "server_scaledown_window",
        f"version: 1\napp: checks\n{LLM}    scaling: {{scaledown_window: 1s}}\n",
        "mdeploy",
        "9:33: services.chat.scaling.scaledown_window: must be between 2 and 3600 seconds (got 1)",
        "server_scaledown_window",
    ),
]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The one `mdeploy validate` run over every case's manifest, as a user runs it (a fresh
    process): (the run, {case: its problem lines without the file name})."""
    project = tmp_path_factory.mktemp("modal_checks")
    shutil.copytree(REPO / "tests" / "manifest" / "data" / "project" / "jobs", project / "jobs")
    (project / "setup.cfg").write_text("")
    for name, manifest, *_ in CASES:
        (project / f"{name}.yaml").write_text(manifest)
    env = {k: v for k, v in os.environ.items() if k not in ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "engine", "validate", str(project)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        for name, *_ in CASES:
            prefix = f"{project}/{name}.yaml:"
            if line.startswith(prefix):
                lines.setdefault(name, []).append(line[len(prefix) :])
    return done, lines


def test_the_run_fails_every_case_without_a_traceback(report):
    done, lines = report
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr and done.stderr == ""
    assert (
        done.stdout.splitlines()[-1]
        == f"{len(CASES)} manifests, {len(CASES)} environments: 0 ok, {len(CASES)} failed, 0 warnings"
    )


@pytest.mark.parametrize("name, by, expected, modal_case", [(c[0], *c[2:]) for c in CASES], ids=[c[0] for c in CASES])
def test_each_modal_check_is_a_located_problem(report, name, by, expected, modal_case):
    _done, lines = report
    found = lines.get(name, [])
    assert any(line.startswith(expected) for line in found), found
    if by == "modal":
        assert all("Modal's client: " in line for line in found), found
    else:
        # Our rule stops the manifest before it is built; Modal's own check is reached in the
        # mapping's test with the rule bypassed.
        assert not any("Modal's client" in line for line in found), found


def test_every_modal_case_of_the_mapping_test_has_a_manifest_here():
    from tests.modal_backend.test_modal_checks_located import CASES as MAPPING_CASES

    here = {c[4] for c in CASES if c[4]}
    # No manifest can reach these: the values come from engine and planner defaults (a server's
    # exit grace period) or a Blueprint shape no manifest plans (web_server functions).
    unreachable = {
        "server_exit_grace_period_long",
        "server_exit_grace_period_negative",
        "web_server_port",
        "web_server_startup_timeout",
        "server_min_above_max",
    }
    assert {c[0] for c in MAPPING_CASES} - here == unreachable
