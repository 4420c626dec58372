"""`mdeploy validate` in worker processes says exactly what one process says.

validate forks workers for a run of many checks (engine/cli/validate_pool.py): the lines, their
order, the "shown above" bookkeeping, the summary and the exit status must not depend on how
many processes checked.
"""

from __future__ import annotations

import os

import pytest

from engine.cli import validate_pool

MANY = ["--all-envs", "manifests", "tests/manifest/data/project/rules"]


def test_workers_print_what_one_process_prints(run_mdeploy):
    alone = run_mdeploy("validate", *MANY, env={validate_pool.WORKERS_VAR: "1"})
    assert alone.returncode == 1 and "FAIL" in alone.stdout and "\nok " in alone.stdout
    for workers in ("2", "3"):
        spread = run_mdeploy("validate", *MANY, env={validate_pool.WORKERS_VAR: workers})
        assert (spread.returncode, spread.stdout, spread.stderr) == (alone.returncode, alone.stdout, alone.stderr)


def test_a_passing_run_is_the_same_too(run_mdeploy):
    alone = run_mdeploy("validate", "--all-envs", "manifests", env={validate_pool.WORKERS_VAR: "1"})
    spread = run_mdeploy("validate", "--all-envs", "manifests", env={validate_pool.WORKERS_VAR: "2"})
    assert alone.returncode == 0
    assert (spread.returncode, spread.stdout) == (alone.returncode, alone.stdout)


def test_a_bad_worker_count_is_a_user_error(run_mdeploy):
    done = run_mdeploy("validate", "manifests", env={validate_pool.WORKERS_VAR: "two"})
    assert done.returncode != 0 and done.stderr.startswith("error: MDEPLOY_VALIDATE_WORKERS='two'")
    assert "Traceback" not in done.stderr


def _pid(path, env):
    return (os.getpid(), path), []


def test_checks_run_in_children_and_come_back_in_order(monkeypatch):
    monkeypatch.setenv(validate_pool.WORKERS_VAR, "2")
    checks = [(index, None) for index in range(40)]
    results = list(validate_pool.outcomes(checks, _pid, lambda: None))
    assert [path for (_pid_, path), _ in results] == list(range(40))
    # The first is checked here (it warms what the others share), the rest in the children.
    pids = [pid for (pid, _), _ in results]
    assert pids[0] == os.getpid() and os.getpid() not in pids[1:]


def _boom(path, env):
    if path == 7:
        raise RuntimeError("a bug in check 7")
    return (os.getpid(), path), []


def test_a_check_that_raises_is_rerun_here_and_raises_here(monkeypatch):
    monkeypatch.setenv(validate_pool.WORKERS_VAR, "2")
    got = []
    with pytest.raises(RuntimeError, match="a bug in check 7"):
        for outcome in validate_pool.outcomes([(i, None) for i in range(20)], _boom, lambda: None):
            got.append(outcome)
    assert [path for (_pid_, path), _ in got] == list(range(7))


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
