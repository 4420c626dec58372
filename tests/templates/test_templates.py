"""The CI/CD templates run only `mdeploy` commands and flags that exist in this CLI.

Each `mdeploy ...` command line in the workflows' `run:` scripts and in the pre-commit hook is
parsed with the real parser of its command module (engine/cli/main.py COMMANDS + register()), so
a renamed flag or a command that is missing fails here, with the file and the line.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import io
import re
import shlex
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.cli.main import COMMANDS

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "templates" / "github" / "workflows").glob("*.yml"))
HOOKS = REPO / ".pre-commit-hooks.yaml"


def _load_yaml(path: Path):
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def _run_scripts(workflow: dict) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "run" in step]


def mdeploy_commands(script: str) -> list[list[str]]:
    """argv (after `mdeploy`) of every mdeploy command in a shell script."""
    script = script.replace("\\\n", " ")
    script = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)  # GitHub expressions -> a plain word
    commands = []
    for line in script.splitlines():
        if not re.search(r"\bmdeploy\b", line):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)  # drops `# comments` too
        lexer.whitespace_split = True
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token and set(token) <= set("&|;()<>"):  # an operator ends a command
                if command and command[0] == "mdeploy":
                    commands.append(command[1:])
                # a redirection's target is not an argument: skip words until the next operator
                command = [] if token[0] in "&|;()" else ["<redirect>"]
            elif command != ["<redirect>"]:
                command.append(token)
    return commands


def _workflow_commands() -> list[tuple[str, list[str]]]:
    found = []
    for path in WORKFLOWS:
        for script in _run_scripts(_load_yaml(path)):
            found += [(path.name, argv) for argv in mdeploy_commands(script)]
    return found


def _hook_commands() -> list[tuple[str, list[str]]]:
    found = []
    for hook in _load_yaml(HOOKS):
        words = shlex.split(hook["entry"])
        assert words[0] == "mdeploy", f"{HOOKS.name}: hook {hook['id']} does not run mdeploy"
        found.append((f"{HOOKS.name}:{hook['id']}", words[1:] + list(hook.get("args", []))))
    return found


def _parse_with_cli(where: str, argv: list[str]) -> argparse.Namespace:
    """Parse argv with the real parser of the command it names; fail with a message naming `where`."""
    command = argv[0]
    if command not in COMMANDS:
        pytest.fail(f"{where}: `mdeploy {command}` is not a command (known: {', '.join(COMMANDS)})")
    module_name = COMMANDS[command][0]
    if importlib.util.find_spec(module_name) is None:
        pytest.fail(f"{where}: runs `mdeploy {command}`, but {module_name} does not exist yet")
    parser = argparse.ArgumentParser(prog="mdeploy")
    importlib.import_module(module_name).register(parser.add_subparsers(dest="command"))
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: `mdeploy {shlex.join(argv)}` does not parse: {errors.getvalue().strip()}")


def test_templates_exist():
    assert {p.name for p in WORKFLOWS} == {"mdeploy-pull-request.yml", "mdeploy-deploy.yml", "mdeploy-drift.yml"}


def test_command_extraction_handles_continuations_pipes_and_redirections():
    script = 'set -e\nmdeploy diff a \\\n  --format markdown > out.md && echo ok | mdeploy plan "$m" --env "${{ x }}"\n'
    assert mdeploy_commands(script) == [["diff", "a", "--format", "markdown"], ["plan", "$m", "--env", "EXPR"]]


@pytest.mark.parametrize(
    "where,argv", _workflow_commands() + _hook_commands(), ids=lambda v: v if isinstance(v, str) else " ".join(v)
)
def test_every_mdeploy_command_in_the_templates_parses_with_the_cli(where, argv):
    _parse_with_cli(where, argv)


def test_pull_request_workflow_validates_and_posts_the_markdown_diff():
    commands = [argv for name, argv in _workflow_commands() if name == "mdeploy-pull-request.yml"]
    validate = _parse_with_cli("mdeploy-pull-request.yml", next(argv for argv in commands if argv[0] == "validate"))
    assert validate.all_envs and validate.paths == ["manifests/"]  # every environment, as the issue asks
    diff = next(argv for argv in commands if argv[0] == "diff")
    args = _parse_with_cli("mdeploy-pull-request.yml", diff)
    assert (args.changed, args.against, args.format) == (True, "origin/main", "markdown")
    workflow = _load_yaml(REPO / "templates/github/workflows/mdeploy-pull-request.yml")
    assert "pull_request" in workflow["on"]
    assert any("gh pr comment" in script and "mdeploy-diff.md" in script for script in _run_scripts(workflow))


def test_deploy_workflow_deploys_to_prod_with_the_strategy_the_smoke_check_and_rollback():
    workflow = _load_yaml(REPO / "templates/github/workflows/mdeploy-deploy.yml")
    assert workflow["on"]["push"]["branches"] == ["main"]
    deploy = next(argv for name, argv in _workflow_commands() if name == "mdeploy-deploy.yml" and argv[0] == "deploy")
    args = _parse_with_cli("mdeploy-deploy.yml", deploy)
    assert (args.env, args.strategy, args.rollback_on_failure, args.no_smoke) == ("prod", "rolling", True, False)
    # No --tag: the default, <commit>-<content hash> of the checkout, is what `mdeploy history` decodes.
    assert args.tag is None
    step_env = [
        step.get("env", {})
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step and "mdeploy deploy" in step["run"]
    ]
    assert step_env[0] == {
        "MODAL_TOKEN_ID": "${{ secrets.MODAL_TOKEN_ID }}",
        "MODAL_TOKEN_SECRET": "${{ secrets.MODAL_TOKEN_SECRET }}",
        # the smoke check's proxy auth token (engine/operate/smoke.py reads these two names)
        "MDEPLOY_PROXY_TOKEN_ID": "${{ secrets.MDEPLOY_PROXY_TOKEN_ID }}",
        "MDEPLOY_PROXY_TOKEN_SECRET": "${{ secrets.MDEPLOY_PROXY_TOKEN_SECRET }}",
    }
    from engine.operate.smoke import PROXY_KEY_ENV, PROXY_SECRET_ENV

    assert {PROXY_KEY_ENV, PROXY_SECRET_ENV} <= set(step_env[0])


def test_drift_workflow_runs_on_a_schedule_and_fails_on_drift():
    workflow = _load_yaml(REPO / "templates/github/workflows/mdeploy-drift.yml")
    assert workflow["on"]["schedule"][0]["cron"] and "workflow_dispatch" in workflow["on"]
    (drift,) = [argv for name, argv in _workflow_commands() if name == "mdeploy-drift.yml"]
    args = _parse_with_cli("mdeploy-drift.yml", drift)
    assert (args.command, args.env, args.exit_code, args.format) == ("drift", "prod", True, "markdown")
    (script,) = [s for s in _run_scripts(workflow) if "mdeploy drift" in s]
    assert "status -eq 2" in script  # drift's exit code, from engine/cli/drift.py
    from engine.cli.drift import DRIFT_EXIT_CODE

    assert DRIFT_EXIT_CODE == 2


def test_pre_commit_hook_is_mdeploy_validate():
    hooks = _load_yaml(HOOKS)
    assert [h["id"] for h in hooks] == ["mdeploy-validate"]
    assert hooks[0]["pass_filenames"] is False


def test_pre_commit_hook_validates_every_environment():
    ((where, argv),) = _hook_commands()
    assert _parse_with_cli(where, argv).all_envs
