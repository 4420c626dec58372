"""Every command that plans a manifest for `--env ENV` says so when ENV has no overlay: a typo'd
`--env prdo` would otherwise deploy, diff or serve the base alone without a word. Through the
real CLI, on the shipped manifest (its one overlay is prod)."""

from __future__ import annotations

import pytest

SHIPPED = "manifests/chat.yaml"
NOTE = (
    "note: manifests/chat.yaml has no overlay for environment '{env}' (did you mean 'prod'?); planned as its base alone"
)
NO_CREDENTIALS = {"MODAL_TOKEN_ID": "", "MODAL_TOKEN_SECRET": "", "MODAL_CONFIG_PATH": "/nonexistent/.modal.toml"}


@pytest.mark.parametrize(
    "command",
    [
        ("plan", SHIPPED, "--env", "prdo"),
        ("deploy", SHIPPED, "--env", "prdo", "--dry-run"),
        ("explain", SHIPPED, "--env", "prdo", "app"),
        ("cost", SHIPPED, "--env", "prdo", "--offline"),
        ("preflight", SHIPPED, "--env", "prdo"),
        ("rollback", SHIPPED, "--env", "prdo", "--dry-run"),
        ("diff", SHIPPED, "--env", "prdo", "--against-env", "prod"),
        ("diff", SHIPPED, "--env", "prdo", "--against", "HEAD"),
        ("run", SHIPPED, "nothing", "--env", "prdo"),
    ],
    ids=lambda command: " ".join(command[:1] + command[4:]),
)
def test_a_command_planning_for_an_env_without_overlay_notes_it(run_mdeploy, tmp_path, command):
    result = run_mdeploy(*command, env=NO_CREDENTIALS)
    assert NOTE.format(env="prdo") in result.stderr.splitlines(), result.stderr
    assert "note:" not in result.stdout  # stdout stays the plan, diff or JSON


def test_eject_notes_it_and_still_writes_the_app(run_mdeploy, tmp_path):
    result = run_mdeploy("eject", SHIPPED, "--env", "prdo", "-o", str(tmp_path / "app.py"))
    assert result.returncode == 0, result.stderr
    assert NOTE.format(env="prdo") in result.stderr.splitlines()
    assert (tmp_path / "app.py").is_file()


def test_diff_notes_the_old_side_too(run_mdeploy):
    result = run_mdeploy("diff", SHIPPED, "--env", "prod", "--against-env", "prdo")
    assert result.stderr.splitlines() == [NOTE.format(env="prdo")]


def test_an_env_with_its_overlay_is_no_note_in_any_command(run_mdeploy, tmp_path):
    for command in (
        ("deploy", SHIPPED, "--env", "prod", "--dry-run"),
        ("diff", SHIPPED, "--env", "prod", "--against-env", "prod"),
        ("eject", SHIPPED, "--env", "prod", "-o", str(tmp_path / "app.py")),
    ):
        assert "note:" not in run_mdeploy(*command, env=NO_CREDENTIALS).stderr, command


def test_main_without_a_main_overlay_is_no_note_and_passes_strict_validation(run_mdeploy):
    # The base is what Modal's default environment gets: `--env main` spelled out is not a slip.
    for command in (("plan", SHIPPED, "--env", "main"), ("deploy", SHIPPED, "--env", "main", "--dry-run")):
        assert "note:" not in run_mdeploy(*command, env=NO_CREDENTIALS).stderr, command
    done = run_mdeploy("validate", SHIPPED, "--env", "main", "--strict")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no manifest checked has an overlay" not in done.stdout + done.stderr
