"""The README is the front door, so its commands are tested (STYLE.md 13: the docs run).

Every `mdeploy ...` line the README shows is parsed by the real CLI parser; every concrete one is
run here, in a copy of the repository, and must succeed (or fail the way the README says); the
few that need a network, credentials or a long-running server name the test that runs them.
The two set-up commands are checked too: CI runs the test command verbatim, and the main job's
`mdeploy demo` is run here, offline, as a newcomer runs it (docs/demo.md's sample output is what
it prints). The example manifest is the shipped file, and the defaults the local section (and
docs/demo.md) quote are --help's.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import COMMANDS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
DEMO_DOC = (REPO / "docs" / "demo.md").read_text()  # what the main job prints, for a newcomer

# A word in capitals is a placeholder (MANIFEST, FUNCTION, ENV, ...): such a line shows syntax.
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]+(\.\.\.)?$")

# Commands that cannot run inside this test, and the test that runs them instead (or why not).
RUN_ELSEWHERE = {
    "mdeploy serve manifests/local-chat.yaml --env tiny": "tests/e2e/test_local_chat_e2e.py",
    # asks the Hub for the commit to pin: run there against a fake Hub
    "mdeploy init --kind llm --engine vllm --model Qwen/Qwen2.5-0.5B-Instruct --overlay prod": "tests/init/test_init_command.py",
    "mdeploy bench manifests/local-chat.yaml:chat --env tiny --concurrency 1,2,4": "tests/bench/test_bench_served_locally.py",
    "mdeploy bench http://127.0.0.1:8000 --concurrency 1,2,4,8 --max-tokens 64": "tests/e2e/test_local_chat_e2e.py",
}
NEEDS_THE_INTERNET = {
    "mdeploy serve manifests/local-chat.yaml",  # downloads Qwen2.5 0.5B from the Hub
    "mdeploy bench https://ACME--chat-llama.modal.run --concurrency 1,8,32 --api-key-env LLM_API_KEY",
}
# Exit codes the README documents for commands that do not exit 0 here (offline, no token).
EXPECTED_EXIT = {"mdeploy preflight manifests/chat.yaml --env prod --strict": 3}
# Commands that write files into the project: each runs in a copy of its own.
WRITES_FILES = {"init"}


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


def test_validate_all_envs_checks_every_shipped_manifest(run_mdeploy):
    assert "mdeploy validate manifests/ --all-envs" in shown_mdeploy_commands()
    done = run_mdeploy("validate", "manifests/", "--all-envs")
    assert done.returncode == 0, done.stderr
    manifests = [p for p in (REPO / "manifests").iterdir() if p.suffix in (".yaml", ".toml")]
    *checks, summary = done.stdout.splitlines()
    assert len(checks) == len(manifests)  # one line per base and per overlay
    assert all(line.startswith("ok ") for line in checks)
    assert summary.endswith(f"{len(checks)} environments: {len(checks)} ok, 0 failed, 0 warnings")


def _fenced_after(text: str, heading: str) -> list[str]:
    """The lines of the first fenced block after `heading` in `text`."""
    rest = text[text.index(heading):]
    block = rest[rest.index("```\n") + 4:]
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


def _project_copy(root: Path) -> Path:
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, root / name)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_readme_main_job_serves_the_tiny_model_asks_it_and_stops(tmp_path):
    main_job = next(line for line in _code_lines() if line.startswith("python3 -m venv") and "pytest" not in line)
    install, run = main_job.split(" && .venv/bin/mdeploy ")
    assert '.venv/bin/pip install -e ".[local]"' in install  # the demo needs torch, transformers, openai
    project = _project_copy(tmp_path)
    # As a newcomer's shell has it: no HF_HUB_OFFLINE (the demo keeps its engine offline itself).
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    for var in ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK", "MDEPLOY_LOCAL_MODEL", "HF_HOME", "HF_HUB_OFFLINE"):
        env.pop(var, None)
    done = subprocess.run(  # the timeout bounds a hung demo; the demo's own waits are bounded too
        [sys.executable, "-m", "engine", *shlex.split(run)], cwd=project, env=env, capture_output=True, text=True, timeout=600,
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
        _parse(shlex.split(command)[1:])
    answer = next(line.strip() for line in printed if line.strip().startswith("model: "))
    assert re.fullmatch(r'model: ".+" \(16 tokens in [\d.]+ s; random weights, so gibberish\)', answer), answer
    assert (project / ".mdeploy" / "models" / "tiny-chat" / "config.json").is_file()
    port = int(re.search(r"--port (\d+)", next(line for line in printed if line.startswith("3. serve"))).group(1))
    with pytest.raises(ConnectionRefusedError):  # the server is stopped again
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_the_example_manifest_is_the_shipped_file():
    section = README[README.index("## A manifest"): README.index("`manifests/` holds real")]
    blocks = re.findall(r"`(manifests/[\w.-]+)`[^`]*?:\n\n```yaml\n(.*?)```", section, re.S)
    assert [name for name, _ in blocks] == ["manifests/chat.yaml", "manifests/chat.prod.yaml"]
    for name, text in blocks:
        assert text == (REPO / name).read_text(), f"the README's {name} differs from the file"


# Defaults the local section quotes, and the --help text of the command that has them.
QUOTED_DEFAULTS = [
    ("serve", "the server listens on `127.0.0.1`", "address to listen on (default: 127.0.0.1)"),
    ("serve", "`.env` in the current folder (`--env-file`", "(default: .env, in the current folder)"),
    ("bench", "default 4 × the\nlevel and at least 8", "(default: 4 x concurrency, or 10 s of arrivals at the rate; at least 8)"),
    ("bench", "`.mdeploy/bench/<time>/` (`--output DIR`), at the manifest's project root for `MANIFEST:SERVICE`\nand in the current folder for a URL",
     "(default: .mdeploy/bench/<time> in the manifest's project root, or here for a URL)"),
]


# ... and those docs/demo.md quotes.
DEMO_DEFAULTS = [
    ("demo", "`--max-tokens N` (default 16)", "(default: 16)"),
    ("demo", "`--port P` (default: a free one)", "local port to serve on (default: a free one)"),
]


@pytest.mark.parametrize(
    "command,quoted,in_help", QUOTED_DEFAULTS + DEMO_DEFAULTS, ids=[q[1][:40] for q in QUOTED_DEFAULTS + DEMO_DEFAULTS]
)
def test_every_default_the_local_section_quotes_is_the_one_help_gives(command, quoted, in_help, run_mdeploy):
    local = DEMO_DOC if command == "demo" else README[README.index("## Try it locally"): README.index("## Robustness and speed")]
    assert quoted in local
    shown = run_mdeploy(command, "--help", env={"COLUMNS": "500"})
    assert shown.returncode == 0
    assert in_help in " ".join(shown.stdout.split())


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
    if shlex.split(command)[1] in WRITES_FILES:
        repo_copy = _project_copy(tmp_path / "copy")
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
