"""Fixtures every test folder shares: where the repository is, and how to run the real CLI."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# In CI, property tests replay the same examples on every run (a red CI must be reproducible and
# must not depend on luck); on a developer's machine they explore new random examples each run.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parent.parent

# A suite started as a background job (`nohup ... &`, some CI runners) inherits SIGINT ignored,
# and every process it starts would ignore it too: the Ctrl-C tests would then send a signal no
# child can receive. Python's own handler here means the children start with the default again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Tests that serve a model, start an engine, run a script end to end or fuzz at length: marked
# `slow`, so `pytest -m "not slow"` is a quick loop while editing. CI runs them all. An entry is a
# file or a file::test; tests/structure/test_slow_marks.py checks each still names a test.
SLOW = (
    "tests/e2e/test_local_chat_e2e.py",
    "tests/test_readme.py::test_readme_main_job_serves_the_tiny_model_asks_it_and_stops",
    "tests/test_readme_scripts.py",
    "tests/local/test_demo.py",
    "tests/local/test_tiny_model.py",
    "tests/local/test_local_serve_vllm.py",
    "tests/local/test_local_serve_prechecks.py::test_the_command_it_names_writes_a_model_serve_then_accepts",
    "tests/bench/test_bench_against_vllm.py",
    "tests/bench/test_bench_against_fake_server.py::test_overhead_benchmark_prints_its_figures",
    "tests/robustness/test_fuzz_loader_bounded.py",
    "tests/robustness/test_overlay_properties.py",
    "tests/robustness/test_yaml_fast_path_agrees.py",
    "tests/robustness/test_commands_never_print_tokens.py",
)


def pytest_collection_modifyitems(items):
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(REPO_ROOT).as_posix()
        test = item.name.split("[", 1)[0]
        if path in SLOW or f"{path}::{test}" in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def run_mdeploy():
    """Run `mdeploy ARGS...` as a user would; returns the CompletedProcess. Commands that only read
    files and print run inside this process, the rest in a fresh one (tests/support/cli_runner.py);
    `fresh_process=True` forces a fresh process."""

    def run(
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | str | None = None,
        timeout: float = 120,
        fresh_process: bool = False,
    ):
        return _cli_runner().run_cli(
            args, repo_root=REPO_ROOT, env=env, cwd=cwd, timeout=timeout, fresh_process=fresh_process
        )

    return run


def _cli_runner():
    import importlib.util

    name = "mdeploy_support_cli_runner"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "tests" / "support" / "cli_runner.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def rule_report():
    """`report(name)`: what `mdeploy validate` says about one rule manifest of
    tests/manifest/data/project/rules (one run per session; see tests/support/rule_report.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "mdeploy_support_rule_report", REPO_ROOT / "tests" / "support" / "rule_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.report
