"""How results are shown and turned into an exit code."""

from __future__ import annotations

from engine.preflight.checks import FAIL, PASS, SKIP, WARN, CheckResult
from engine.preflight.report import EXIT_FAILED, EXIT_OK, EXIT_SKIPPED_STRICT, exit_code, render_results


def test_nothing_failed_exits_zero_even_with_skips_and_warnings():
    results = [CheckResult("a", PASS, ""), CheckResult("b", SKIP, "no creds"), CheckResult("c", WARN, "")]
    assert exit_code(results) == EXIT_OK


def test_a_failure_exits_one():
    assert exit_code([CheckResult("a", SKIP, ""), CheckResult("b", FAIL, "")], strict=True) == EXIT_FAILED


def test_strict_turns_skips_into_exit_three():
    assert exit_code([CheckResult("a", PASS, ""), CheckResult("b", SKIP, "")], strict=True) == EXIT_SKIPPED_STRICT


def test_each_skip_is_one_line_with_its_reason():
    text = render_results([CheckResult("secret hf", SKIP, "no Modal credentials")], app="x", environment="prod")
    assert any(line.split() == ["skip", "secret", "hf", "no", "Modal", "credentials"] for line in text.splitlines())


def test_summary_counts_each_status():
    results = [CheckResult("a", PASS, ""), CheckResult("b", FAIL, ""), CheckResult("c", SKIP, "")]
    assert (
        render_results(results, app="x", environment="e").splitlines()[-1] == "1 passed, 0 warned, 1 failed, 1 skipped"
    )
