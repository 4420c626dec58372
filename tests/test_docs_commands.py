"""Every command the README or a docs page shows is exercised (the docs run).

Every `mdeploy ...` line of every page is parsed by the real CLI parser. Every concrete one is run
here, in a copy of the repository, offline and without Modal credentials, and must succeed (or
exit the way the page says), unless the page has a test of its own that runs its commands
(`tests/test_docs_<page>.py`), or the command needs a server, the network or credentials: then it
names the test that runs it, or why nothing can. The operate commands (deploy, status, logs, ...)
run with `--dry-run` against a fake `modal` that records any call, as docs/operate.md's test does.
Every `python SCRIPT.py` a page shows gets a quick run in tests/test_readme_scripts.py.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import COMMANDS
from tests.support.doc_commands import REPO, is_template, page_name, pages, parse, shown_mdeploy_commands

# Commands that cannot run inside this test, and the test that runs them instead.
RUN_ELSEWHERE = {
    "mdeploy serve manifests/local-chat.yaml --env tiny": "tests/e2e/test_local_chat_e2e.py",
    # asks the Hub for the commit to pin: run there against a fake Hub
    "mdeploy init --kind llm --engine vllm --model Qwen/Qwen2.5-0.5B-Instruct --overlay prod": "tests/init/test_init_command.py",
    "mdeploy bench manifests/local-chat.yaml:chat --env tiny --concurrency 1,2,4": "tests/bench/test_bench_served_locally.py",
    "mdeploy bench http://127.0.0.1:8000 --concurrency 1,2,4,8 --max-tokens 64": "tests/e2e/test_local_chat_e2e.py",
}
NEEDS_THE_INTERNET = {
    "mdeploy serve manifests/local-chat.yaml",  # downloads Qwen2.5 0.5B from the Hub
    "mdeploy serve manifests/chat.yaml llama",  # downloads Llama 3.1 8B (gated), runs vLLM's CPU build
    "mdeploy bench https://ACME--chat-llama.modal.run --concurrency 1,8,32 --api-key-env LLM_API_KEY",
}
# Exit codes the pages document for commands that do not exit 0 here (offline, no token).
EXPECTED_EXIT = {"mdeploy preflight manifests/chat.yaml --env prod --strict": 3}
# Commands that write files into the project: each runs in a copy of its own.
WRITES_FILES = {"init"}
# Commands that talk to Modal: run with --dry-run, which plans and prints what it would do.
TALKS_TO_MODAL = {"deploy", "status", "logs", "history", "rollback", "drift", "cost"}


def _own_test(page: Path) -> Path:
    """tests/test_docs_<page>.py (a dash in the page's name is an underscore in a module's)."""
    return REPO / "tests" / f"test_docs_{page.stem.replace('-', '_')}.py"


def _has_own_test(page: Path) -> bool:
    return page.parent.name == "docs" and _own_test(page).is_file()


def shown() -> list[tuple[str, str]]:
    return [(page_name(page), command) for page in pages() for command in shown_mdeploy_commands(page.read_text())]


def _runnable() -> list[tuple[str, str]]:
    return [
        (page, command)
        for page, command in shown()
        if not _has_own_test(REPO / page)
        and not is_template(command)
        and command not in RUN_ELSEWHERE
        and command not in NEEDS_THE_INTERNET
    ]


def test_the_pages_show_commands():
    assert len(shown()) >= 60
    assert {page for page, _ in shown()} >= {"README.md", "docs/manifests.md", "docs/plan-and-diff.md", "docs/local.md"}


@pytest.mark.parametrize("page,command", shown(), ids=[f"{p}:{c}" for p, c in shown()])
def test_every_shown_command_is_accepted_by_the_cli(page, command):
    argv = shlex.split(command)[1:]
    assert argv[0] in COMMANDS, f"{page} shows an unknown command: {command}"
    parse(argv)


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory) -> Path:
    """The shipped manifests, schema and handlers in a git repository with an `origin/main`."""
    root = tmp_path_factory.mktemp("docs")
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, root / name)

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "manifests")
    git("update-ref", "refs/remotes/origin/main", "HEAD")
    return root


def project_copy(root: Path) -> Path:
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, root / name)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.mark.parametrize("page,command", _runnable(), ids=[f"{p}:{c}" for p, c in _runnable()])
def test_every_concrete_command_runs(page, command, repo_copy, tmp_path):
    from tests.support.fake_modal import FakeModal

    argv = shlex.split(command)[1:]
    if argv[0] in WRITES_FILES:
        repo_copy = project_copy(tmp_path / "copy")
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),  # no ~/.modal.toml: no Modal credentials
        "HF_HUB_OFFLINE": "1",
    }
    for var in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK"):
        env.pop(var, None)
    fake = None
    if argv[0] in TALKS_TO_MODAL:
        fake = FakeModal(tmp_path / "modal")
        env.update(fake.env(REPO, MODAL_TOKEN_ID="", MODAL_TOKEN_SECRET=""), PYTHONPATH=str(REPO))
        if "--dry-run" not in argv:
            argv.append("--dry-run")
    done = subprocess.run(
        [sys.executable, "-m", "engine", *argv],
        cwd=repo_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == EXPECTED_EXIT.get(command, 0), f"{page}: {command}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    if fake is not None:
        assert fake.calls() == [], f"{command} --dry-run called modal"


def test_commands_run_elsewhere_are_run_there():
    commands = {command for _, command in shown()}
    for command, test_file in RUN_ELSEWHERE.items():
        assert command in commands, f"stale entry: {command}"
        text = (REPO / test_file).read_text()
        subcommand = shlex.split(command)[1]
        assert f'"{subcommand}"' in text, f"{test_file} does not run `mdeploy {subcommand}`"
    assert NEEDS_THE_INTERNET <= commands, "stale entry in NEEDS_THE_INTERNET"


def test_pages_with_a_test_of_their_own_have_it_run_their_commands():
    """A page left to its own test must have one that reads that page and runs what it shows."""
    for page in pages():
        if _has_own_test(page) and shown_mdeploy_commands(page.read_text()):
            source = _own_test(page).read_text()
            assert f'"{page.name}"' in source and "run_mdeploy" in source, page


def _fenced_after(text: str, heading: str) -> list[str]:
    rest = text[text.index(heading) :]
    block = rest[rest.index("```\n") + 4 :]
    return block[: block.index("```")].splitlines()


def test_explain_examples_print_what_the_page_shows(repo_copy):
    """docs/plan-and-diff.md shows explain's answers; they must be what explain prints."""
    text = (REPO / "docs" / "plan-and-diff.md").read_text()
    block = text[text.index("## Where did this value come from") :]
    block = block[: block.index("KEY is a dotted key")]
    examples = re.findall(r"\n    (mdeploy explain [^\n]+)\n((?:    [^\n]+\n)+)", block)
    assert len(examples) >= 3
    for command, shown_output in examples:
        done = subprocess.run(
            [sys.executable, "-m", "engine", *shlex.split(command)[1:]],
            cwd=repo_copy,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        for line in shown_output.splitlines():
            line = line.strip()
            if line.startswith("..."):
                assert line.removeprefix("...").strip() in done.stdout, (command, line)
            else:
                assert line in done.stdout, (command, line, done.stdout)


# Defaults docs/local.md quotes, and the --help text of the command that has them.
QUOTED_DEFAULTS = [
    ("serve", "the server listens on `127.0.0.1`", "address to listen on (default: 127.0.0.1)"),
    ("serve", "`.env` in the current folder (`--env-file`", "(default: .env, in the current folder)"),
    (
        "bench",
        "default 4 × the\nlevel and at least 8",
        "(default: 4 x concurrency, or 10 s of arrivals at the rate; at least 8)",
    ),
    (
        "bench",
        "`.mdeploy/bench/<time>/` (`--output DIR`), at the manifest's project root for `MANIFEST:SERVICE`\nand in the current folder for a URL",
        "(default: .mdeploy/bench/<time> in the manifest's project root, or here for a URL)",
    ),
]
# ... and those docs/demo.md quotes.
DEMO_DEFAULTS = [
    ("demo", "`--max-tokens N` (default 16)", "(default: 16)"),
    ("demo", "`--port P` (default: a free one)", "local port to serve on (default: a free one)"),
]


@pytest.mark.parametrize(
    "command,quoted,in_help", QUOTED_DEFAULTS + DEMO_DEFAULTS, ids=[q[1][:40] for q in QUOTED_DEFAULTS + DEMO_DEFAULTS]
)
def test_every_default_the_local_pages_quote_is_the_one_help_gives(command, quoted, in_help, run_mdeploy):
    page = REPO / "docs" / ("demo.md" if command == "demo" else "local.md")
    assert quoted in page.read_text()
    shown_help = run_mdeploy(command, "--help", env={"COLUMNS": "500"})
    assert shown_help.returncode == 0
    assert in_help in " ".join(shown_help.stdout.split())


def test_the_development_page_shows_the_test_command_ci_runs():
    command = next(
        line.strip()
        for line in (REPO / "docs" / "development.md").read_text().splitlines()
        if line.strip().startswith("python3 -m venv") and "pytest" in line
    )
    assert command in (REPO / ".ci" / "run").read_text().splitlines()


# Commands that deploy to Modal itself: the seam tests run `modal deploy engine/entry.py` with
# MDEPLOY_MANIFEST and --env against a captured client.
MODAL_DEPLOY_TESTS = ("tests/modal_backend/test_deploy_seam.py", "tests/support/modal_deploy.py")


def test_modal_deploy_lines_are_what_the_seam_test_runs():
    lines = [
        line.strip()
        for page in pages()
        for line in page.read_text().splitlines()
        if line.startswith("    ") and "modal deploy engine/entry.py" in line
    ]
    assert lines, "no page shows the entry module's deploy"
    source = "".join((REPO / name).read_text() for name in MODAL_DEPLOY_TESTS)
    assert all(part in source for part in ("MDEPLOY_MANIFEST", '"deploy"', '"--env"', "entry.py"))
    for line in lines:
        assert re.fullmatch(
            r"MDEPLOY_MANIFEST=\S+ (python -m )?modal deploy \S*engine/entry\.py --env[= ]\S+( --tag \S+)?", line
        ), line
