"""Preflight results -> the lines a person reads, and the exit code a script reads.

Exit codes:
  0  nothing failed (skipped checks and warnings are reported, not fatal: CI without credentials
     still passes);
  1  at least one check failed;
  3  nothing failed but something was skipped, and `--strict` asked that everything be checked.
"""

from __future__ import annotations

from engine.preflight.checks import FAIL, PASS, SKIP, WARN, CheckResult

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_SKIPPED_STRICT = 3

_MARK = {PASS: "ok  ", WARN: "warn", FAIL: "FAIL", SKIP: "skip"}


def render_results(results: list[CheckResult], *, app: str, environment: str) -> str:
    lines = [f"preflight {app} (environment {environment})"]
    width = max((len(r.check) for r in results), default=0)
    lines += [f"  {_MARK[r.status]}  {r.check.ljust(width)}  {r.message}" for r in results]
    counts = {status: sum(r.status == status for r in results) for status in (PASS, WARN, FAIL, SKIP)}
    lines.append(
        f"{counts[PASS]} passed, {counts[WARN]} warned, {counts[FAIL]} failed, {counts[SKIP]} skipped"
        if results
        else "nothing to check: the app names no secrets, volumes or model servers"
    )
    return "\n".join(lines)


def exit_code(results: list[CheckResult], *, strict: bool = False) -> int:
    if any(r.status == FAIL for r in results):
        return EXIT_FAILED
    if strict and any(r.status == SKIP for r in results):
        return EXIT_SKIPPED_STRICT
    return EXIT_OK
