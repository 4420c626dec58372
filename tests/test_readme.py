"""The README is the front door, so its commands are tested (STYLE.md 13: the docs run).

Every `mdeploy ...` line the README shows is parsed by the real CLI parser; every concrete one is
run here, in a copy of the repository, and must succeed (or fail the way the README says); the
few that need a network, credentials or a long-running server name the test that runs them.
The two set-up commands are checked too: CI runs the test command verbatim, and the main job's
`mdeploy validate` is run.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import COMMANDS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()

# A word in capitals is a placeholder (MANIFEST, FUNCTION, ENV, ...): such a line shows syntax.
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]+(\.\.\.)?$")

# Commands that cannot run inside this test, and the test that runs them instead (or why not).
RUN_ELSEWHERE = {
    "mdeploy serve manifests/local-chat.yaml --env tiny": "tests/e2e/test_local_chat_e2e.py",
    "mdeploy bench manifests/local-chat.yaml:chat --env tiny --concurrency 1,2,4": "tests/bench/test_bench_served_locally.py",
    "mdeploy bench http://127.0.0.1:8000 --concurrency 1,2,4,8 --max-tokens 64": "tests/e2e/test_local_chat_e2e.py",
}
NEEDS_THE_INTERNET = {
    "mdeploy serve manifests/local-chat.yaml",  # downloads Qwen2.5 0.5B from the Hub
    "mdeploy bench https://ACME--chat-llama.modal.run --concurrency 1,8,32 --api-key-env LLM_API_KEY",
}
# Exit codes the README documents for commands that do not exit 0 here (offline, no token).
EXPECTED_EXIT = {"mdeploy preflight manifests/chat.yaml --env prod --strict": 3}


def _code_lines() -> list[str]:
    """Lines inside fenced code blocks and 4-space indented blocks, stripped."""
    lines, fenced = [], False
    for line in README.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced or line.startswith("    "):
            lines.append(line.strip())
    return lines


def _strip_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def shown_mdeploy_commands() -> list[str]:
    found = []
    for line in _code_lines():
        if line.startswith("mdeploy "):
            command = _strip_comment(line)
            # `[--flag value]` marks an option: exercise the command with it.
            found.append(re.sub(r"\[([^\]]+)\]", r"\1", command).replace("  ", " "))
    return sorted(set(found))


def _is_template(command: str) -> bool:
    return any(PLACEHOLDER.match(word) for word in shlex.split(command)[1:])


def _parse(argv: list[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="mdeploy", exit_on_error=False)
    sub = parser.add_subparsers(dest="command")
    importlib.import_module(COMMANDS[argv[0]][0]).register(sub)
    parser.parse_args(argv)


def test_readme_shows_commands():
    assert len(shown_mdeploy_commands()) >= 20


@pytest.mark.parametrize("command", shown_mdeploy_commands())
def test_every_shown_command_is_accepted_by_the_cli(command):
    argv = shlex.split(command)[1:]
    assert argv[0] in COMMANDS, f"README shows an unknown command: {command}"
    _parse(argv)


def test_ci_runs_the_readme_test_command():
    test_command = next(line for line in _code_lines() if "pytest" in line and line.startswith("python3 -m venv"))
    assert test_command in (REPO / ".ci" / "run").read_text().splitlines()


def test_readme_main_job_validates_every_shipped_manifest(run_mdeploy):
    main_job = next(line for line in _code_lines() if line.startswith("python3 -m venv") and "validate" in line)
    argv = shlex.split(main_job.split("&&")[-1])
    assert argv[0] == ".venv/bin/mdeploy"
    done = run_mdeploy(*argv[1:])
    assert done.returncode == 0, done.stderr
    manifests = [p for p in (REPO / "manifests").iterdir() if p.suffix in (".yaml", ".toml")]
    *checks, summary = done.stdout.splitlines()
    assert len(checks) == len(manifests)  # one line per base and per overlay
    assert all(line.startswith("ok ") for line in checks)
    assert summary.endswith(f"{len(checks)} environments: {len(checks)} ok, 0 failed, 0 warnings")


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    """The shipped manifests, schema and handlers in a git repository with an `origin/main`."""
    root = tmp_path_factory.mktemp("readme")
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, root / name)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "manifests")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    return root


def _runnable() -> list[str]:
    return [
        c for c in shown_mdeploy_commands()
        if not _is_template(c) and c not in RUN_ELSEWHERE and c not in NEEDS_THE_INTERNET
    ]


@pytest.mark.parametrize("command", _runnable())
def test_every_concrete_command_runs(command, repo_copy, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),  # no ~/.modal.toml: no Modal credentials
        "HF_HUB_OFFLINE": "1",
    }
    for var in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK"):
        env.pop(var, None)
    done = subprocess.run(
        [sys.executable, "-m", "engine", *shlex.split(command)[1:]],
        cwd=repo_copy, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == EXPECTED_EXIT.get(command, 0), f"{command}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr


def test_commands_run_elsewhere_are_run_there():
    for command, test_file in RUN_ELSEWHERE.items():
        assert command in shown_mdeploy_commands(), f"stale entry: {command}"
        text = (REPO / test_file).read_text()
        subcommand = shlex.split(command)[1]
        assert f'"{subcommand}"' in text, f"{test_file} does not run `mdeploy {subcommand}`"


def test_explain_examples_print_what_the_readme_shows(repo_copy):
    """The README shows explain's answers; they must be what explain prints."""
    block = README[README.index("## Where did this value come from") :]
    block = block[: block.index("KEY is a dotted key")]
    examples = re.findall(r"\n    (mdeploy explain [^\n]+)\n((?:    [^\n]+\n)+)", block)
    assert len(examples) >= 3
    for command, shown in examples:
        done = subprocess.run(
            [sys.executable, "-m", "engine", *shlex.split(command)[1:]],
            cwd=repo_copy, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        for line in shown.splitlines():
            line = line.strip()
            if line.startswith("..."):
                assert line.removeprefix("...").strip() in done.stdout, (command, line)
            else:
                assert line in done.stdout, (command, line, done.stdout)


def test_files_and_modules_the_readme_names_exist():
    """A README that names a path or a module that is gone tells an untruth."""
    paths = set(re.findall(r"`((?:engine|tests|benchmarks|schemas|manifests|templates|docs|workloads)/[\w./-]+)`", README))
    assert paths, "the README names no repository path: the pattern is stale"
    missing = sorted(p for p in paths if "*" not in p and not (REPO / p.rstrip("/")).exists())
    assert missing == []
    for dotted in set(re.findall(r"`(engine(?:\.\w+)+)(?:\([^`]*\))?`", README)):
        module, _, attr = dotted.rpartition(".")
        try:
            importlib.import_module(dotted)
        except ModuleNotFoundError:
            assert hasattr(importlib.import_module(module), attr), dotted
