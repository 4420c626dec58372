"""Run `mdeploy validate`'s checks in forked worker processes, results in the order given.

Each check (load, rules, plan, Modal's offline build) is independent of the others and costs
milliseconds of CPU, nearly all of it in Python; a repository of hundreds of manifests is worth
spreading over the machine's cores. The parent imports everything a check needs (modal
included) once, freezes those objects out of the garbage collector's sight (`gc.freeze`, so
neither the collector nor copy-on-write touches them in the children) and forks; the workers
only check, and send back what the parent prints: the summary of a manifest that passed and
its problems. The parent prints and counts exactly as it does with one process, so the output
and the exit status do not depend on the number of workers (a test compares them).

Where a check raises (a bug: a user's mistake is a problem, never an exception), the worker
says so and the parent runs that check again itself, so the exception and its report are the
ones a single process gives.

Workers: MDEPLOY_VALIDATE_WORKERS (1: in this process), else one per core this process may run
on, at most 8; a run of fewer than MIN_PARALLEL checks, a platform without fork, or a process
that already runs threads (forking those is unsafe) checks in-process.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from engine.manifest.errors import Problem

WORKERS_VAR = "MDEPLOY_VALIDATE_WORKERS"
MIN_PARALLEL = 24  # below this, forking costs more than it saves
_MAX_WORKERS = 8
_CHUNK = 4  # checks per message to a worker: few enough that both stay busy to the end

Check = tuple[Path, str | None]  # (manifest, environment)
Outcome = tuple[str | None, list[Problem]]  # (summary of a manifest that passed, or None; its problems)
Job = Callable[[Path, str | None], Outcome]

# Set in the parent just before the fork; the children inherit it.
_job: Job | None = None
_FAILED = "mdeploy-validate-check-raised"


def worker_count(checks: int) -> int:
    """How many processes check `checks` checks (1: this one)."""
    from engine.errors import UserError

    given = os.environ.get(WORKERS_VAR, "").strip()
    if given:
        if not given.isdigit() or int(given) < 1:
            raise UserError(f"{WORKERS_VAR}={given!r}: write a whole number of processes, 1 or more")
        wanted = int(given)
    else:
        if checks < MIN_PARALLEL:
            return 1
        wanted = min(_cores(), _MAX_WORKERS)
    if wanted <= 1 or not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    return min(wanted, max(1, checks))


def outcomes(checks: Sequence[Check], job: Job, prepare: Callable[[], None]) -> Iterator[Outcome]:
    """`job(path, env)` for every check, in order; `prepare()` imports what the jobs need."""
    workers = worker_count(len(checks))
    many = workers > 1 or len(checks) >= MIN_PARALLEL
    first: list[Outcome] = []
    if many:
        # The modules a check needs, imported up front, and the first check run here: it warms
        # what the others share (lazy imports, the installed distributions, parsed handler
        # modules), once instead of once per worker. All of it is then frozen: the collector
        # never walks modal's and pydantic's objects again (a third of its time on 500
        # manifests), and forked children do not copy the pages it would touch.
        prepare()
        if checks:
            first.append(job(*checks[0]))
        gc.collect()
        gc.freeze()
        workers = worker_count(len(checks))  # a check may have started a thread: then no fork
    try:
        yield from first
        rest = checks[len(first) :]
        if workers <= 1:
            for path, env in rest:
                yield job(path, env)
        else:
            yield from _forked(rest, job, workers)
    finally:
        if many:
            gc.unfreeze()


def _forked(checks: Sequence[Check], job: Job, workers: int) -> Iterator[Outcome]:
    import multiprocessing

    global _job
    _job = job
    # A child flushes the standard streams as it ends: what the parent has buffered must be
    # out before the fork, or it would be printed once more per child.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for check, outcome in zip(checks, pool.imap(_run_one, checks, chunksize=_CHUNK)):
                # The parent reruns a check that raised, so the exception is its own.
                yield job(*check) if isinstance(outcome, str) else outcome  # a str: _FAILED
    finally:
        _job = None


def _run_one(check: Check) -> Outcome | str:
    assert _job is not None, "forked without a job"
    try:
        return _job(*check)
    except Exception:  # noqa: BLE001 - rerun by the parent, which reports it as one process would
        return _FAILED


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
