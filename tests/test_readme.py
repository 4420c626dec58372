"""The README is the front door: short, and what it shows is true.

It says what mdeploy is, the two set-up commands, one manifest, the workflow, the commands and
where to read more, in at most 250 lines; everything else lives in docs/, and the README links
every page there. The set-up commands are checked: CI runs the test command verbatim, and the
main job's `mdeploy demo` is run here, offline, as a newcomer runs it (docs/demo.md's sample
output is what it prints). The example manifest is the shipped file. Every `mdeploy ...` line the
README shows is parsed and run by tests/test_docs_commands.py, like those of every docs page.
"""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.doc_commands import code_lines, parse, shown_mdeploy_commands
from tests.test_docs_commands import project_copy

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
DEMO_DOC = (REPO / "docs" / "demo.md").read_text()  # what the main job prints, for a newcomer
MAX_LINES = 250

_parse = parse  # tests of docs pages import it from here
_project_copy = project_copy


def _code_lines() -> list[str]:
    return [line.strip() for line in code_lines(README)]


def test_the_readme_is_short():
    assert len(README.splitlines()) <= MAX_LINES, "the README is the front door: move detail to docs/"


def test_the_readme_has_the_front_door_sections_in_order():
    headings = re.findall(r"^## (.+)$", README, re.M)
    assert headings == ["Quick start", "A manifest", "The workflow", "Commands", "Read more"]


def test_read_more_links_every_docs_page():
    section = README[README.index("## Read more") :]
    linked = set(re.findall(r"\]\((docs/[\w.-]+\.md)\)", section))
    pages = {f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")}
    assert linked == pages, f"unlinked: {sorted(pages - linked)}, gone: {sorted(linked - pages)}"


def test_the_workflow_shows_each_step_with_its_commands():
    section = README[README.index("## The workflow") : README.index("## Commands")]
    shown = {shlex.split(c)[1] for c in shown_mdeploy_commands(section)}
    assert {
        "validate",
        "plan",
        "diff",
        "preflight",
        "deploy",
        "status",
        "logs",
        "history",
        "rollback",
        "drift",
        "cost",
    } <= shown
    for step in ("Edit", "Open a pull request", "Review", "Merge; deploy", "Operate"):
        assert f"**{step}" in section, step


def test_the_commands_table_lists_every_command():
    from engine.cli.main import COMMANDS

    section = README[README.index("## Commands") : README.index("## Read more")]
    listed = set(re.findall(r"^\| `mdeploy ([a-z]+)", section, re.M))
    assert listed == set(COMMANDS)


def test_ci_runs_the_readme_test_command():
    test_command = next(line for line in _code_lines() if "pytest" in line and line.startswith("python3 -m venv"))
    assert test_command in (REPO / ".ci" / "run").read_text().splitlines()


def test_validate_all_envs_checks_every_shipped_manifest(run_mdeploy):
    assert "mdeploy validate manifests/ --all-envs" in shown_mdeploy_commands(README)
    done = run_mdeploy("validate", "manifests/", "--all-envs")
    assert done.returncode == 0, done.stderr
    manifests = [p for p in (REPO / "manifests").iterdir() if p.suffix in (".yaml", ".toml")]
    *checks, summary = done.stdout.splitlines()
    assert len(checks) == len(manifests)  # one line per base and per overlay
    assert all(line.startswith("ok ") for line in checks)
    assert summary.endswith(f"{len(checks)} environments: {len(checks)} ok, 0 failed, 0 warnings")


def _fenced_after(text: str, heading: str) -> list[str]:
    """The lines of the first fenced block after `heading` in `text`."""
    rest = text[text.index(heading) :]
    block = rest[rest.index("```\n") + 4 :]
    return block[: block.index("```")].splitlines()


def _numbers_aside(line: str) -> re.Pattern:
    """`line` as a pattern in which every number may be another (ports, seconds, sizes) and a
    quoted string any other (the random model's answer)."""
    pattern = ""
    for part in re.split(r'("[^"]*")', line):
        if len(part) >= 2 and part[0] == part[-1] == '"':
            pattern += r'"(?:[^"\\]|\\.)*"'
        else:
            pattern += re.sub(r"\d+(?:\\\.\d+)?", lambda _m: r"\d+(?:\.\d+)?", re.escape(part))
    return re.compile(pattern)


def test_readme_main_job_serves_the_tiny_model_asks_it_and_stops(tmp_path):
    main_job = next(line for line in _code_lines() if line.startswith("python3 -m venv") and "pytest" not in line)
    install, run = main_job.split(" && .venv/bin/mdeploy ")
    assert '.venv/bin/pip install -e ".[local]"' in install  # the demo needs torch, transformers, openai
    project = project_copy(tmp_path)
    # As a newcomer's shell has it: no HF_HUB_OFFLINE (the demo keeps its engine offline itself).
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    for var in ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK", "MDEPLOY_LOCAL_MODEL", "HF_HOME", "HF_HUB_OFFLINE"):
        env.pop(var, None)
    done = subprocess.run(  # the timeout bounds a hung demo; the demo's own waits are bounded too
        [sys.executable, "-m", "engine", *shlex.split(run)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == "", done.stderr
    printed = done.stdout.splitlines()
    sample = _fenced_after(DEMO_DOC, "# `mdeploy demo`")
    for shown in sample:
        assert any(_numbers_aside(shown).fullmatch(line) for line in printed), (shown, printed)
    named = [line.split(maxsplit=2)[2] for line in sample if re.match(r"\d\. \w+ +mdeploy ", line)]
    assert len(named) == 2
    for command in named:  # each step's own command is one the CLI takes
        parse(shlex.split(command)[1:])
    answer = next(line.strip() for line in printed if line.strip().startswith("model: "))
    assert re.fullmatch(r'model: ".+" \(16 tokens in [\d.]+ s; random weights, so gibberish\)', answer), answer
    assert (project / ".mdeploy" / "models" / "tiny-chat" / "config.json").is_file()
    port = int(re.search(r"--port (\d+)", next(line for line in printed if line.startswith("3. serve"))).group(1))
    with pytest.raises(ConnectionRefusedError):  # the server is stopped again
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_the_example_manifest_is_the_shipped_file():
    section = README[README.index("## A manifest") : README.index("`manifests/` holds real")]
    blocks = re.findall(r"`(manifests/[\w.-]+)`[^`]*?:\n\n```yaml\n(.*?)```", section, re.S)
    assert [name for name, _ in blocks] == ["manifests/chat.yaml", "manifests/chat.prod.yaml"]
    for name, text in blocks:
        assert text == (REPO / name).read_text(), f"the README's {name} differs from the file"
