"""`mdeploy validate` in worker processes says exactly what one process says.

validate forks workers for a run of many checks (engine/cli/validate_pool.py): the lines, their
order, the "shown above" bookkeeping, the summary and the exit status must not depend on how
many processes checked.

A process that runs threads never forks (validate_pool.py), and the test process runs some (Modal's
client, earlier tests' servers): every run here that must fork starts a fresh interpreter.
"""

from __future__ import annotations

import os

from engine.cli import validate_pool

MANY = ["--all-envs", "manifests", "tests/manifest/data/project/rules"]


def test_workers_print_what_one_process_prints(run_mdeploy):
    alone = run_mdeploy("validate", *MANY, env={validate_pool.WORKERS_VAR: "1"}, fresh_process=True)
    assert alone.returncode == 1 and "FAIL" in alone.stdout and "\nok " in alone.stdout
    for workers in ("2", "3"):
        spread = run_mdeploy("validate", *MANY, env={validate_pool.WORKERS_VAR: workers}, fresh_process=True)
        assert (spread.returncode, spread.stdout, spread.stderr) == (alone.returncode, alone.stdout, alone.stderr)


def test_a_passing_run_is_the_same_too(run_mdeploy):
    alone = run_mdeploy("validate", "--all-envs", "manifests", env={validate_pool.WORKERS_VAR: "1"}, fresh_process=True)
    spread = run_mdeploy(
        "validate", "--all-envs", "manifests", env={validate_pool.WORKERS_VAR: "2"}, fresh_process=True
    )
    assert alone.returncode == 0
    assert (spread.returncode, spread.stdout) == (alone.returncode, alone.stdout)


def test_a_bad_worker_count_is_a_user_error(run_mdeploy):
    done = run_mdeploy("validate", "manifests", env={validate_pool.WORKERS_VAR: "two"})
    assert done.returncode != 0 and done.stderr.startswith("error: MDEPLOY_VALIDATE_WORKERS='two'")
    assert "Traceback" not in done.stderr


def _pid(path, env):
    return (os.getpid(), path), []


# Run in a fresh interpreter (no threads, so the pool forks); prints the outcomes as JSON lines.
_POOL_SCRIPT = """
import json, os, sys
from engine.cli import validate_pool

def pid(path, env):
    return (os.getpid(), path), []

def boom(path, env):
    if path == 7:
        raise RuntimeError("a bug in check 7")
    return (os.getpid(), path), []

check = pid if sys.argv[1] == "pid" else boom
print(json.dumps({"parent": os.getpid()}), flush=True)
for outcome, _ in validate_pool.outcomes([(i, None) for i in range(int(sys.argv[2]))], check, lambda: None):
    print(json.dumps(outcome), flush=True)
"""


def _pool_run(check: str, count: int):
    import json
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), validate_pool.WORKERS_VAR: "2"}
    done = subprocess.run(
        [sys.executable, "-c", _POOL_SCRIPT, check, str(count)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return done, lines[0]["parent"], [tuple(line) for line in lines[1:]]


def test_checks_run_in_children_and_come_back_in_order():
    done, parent, results = _pool_run("pid", 40)
    assert done.returncode == 0, done.stderr
    assert [path for _pid_, path in results] == list(range(40))
    # The first is checked here (it warms what the others share), the rest in the children.
    pids = [pid for pid, _ in results]
    assert pids[0] == parent and parent not in pids[1:]


def test_a_check_that_raises_is_rerun_here_and_raises_here():
    done, parent, results = _pool_run("boom", 20)
    assert done.returncode == 1 and "RuntimeError: a bug in check 7" in done.stderr
    assert [path for _pid_, path in results] == list(range(7))


def test_few_checks_stay_in_this_process(monkeypatch):
    monkeypatch.delenv(validate_pool.WORKERS_VAR, raising=False)
    assert validate_pool.worker_count(validate_pool.MIN_PARALLEL - 1) == 1
    results = list(validate_pool.outcomes([(1, None), (2, None)], _pid, lambda: None))
    assert {pid for (pid, _), _ in results} == {os.getpid()}


def test_a_reader_that_leaves_ends_the_workers_quietly():
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    script = f"set -o pipefail; {sys.executable} -m engine validate --all-envs manifests/ tests/manifest/data/project/rules | head -1"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), validate_pool.WORKERS_VAR: "2"}
    done = subprocess.run(["bash", "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("ok manifests/") and len(done.stdout.splitlines()) == 1
    assert done.stderr == ""
    assert done.returncode in (0, 141)
