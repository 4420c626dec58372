"""`mdeploy plan` through the real CLI, on the shipped manifests."""

from __future__ import annotations

import json

from engine.blueprint import codec

SHIPPED = "manifests/chat.yaml"


def test_plan_text_shows_the_app_environment_and_cost(run_mdeploy):
    result = run_mdeploy("plan", SHIPPED, "--env", "prod")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("app chat (environment prod, from manifests/chat.yaml)")
    assert "Cost estimate" in result.stdout


def test_plan_json_is_a_blueprint_the_codec_reads_back(run_mdeploy):
    result = run_mdeploy("plan", SHIPPED, "--env", "prod", "--format", "json")
    assert result.returncode == 0, result.stderr
    blueprint = codec.from_json(result.stdout)
    assert result.stdout == codec.to_json(blueprint) + "\n"
    assert blueprint.environment == "prod"


def test_overlay_is_applied_for_the_chosen_environment(run_mdeploy):
    dev = codec.from_json(run_mdeploy("plan", SHIPPED, "--env", "dev", "--format", "json").stdout)
    prod = codec.from_json(run_mdeploy("plan", SHIPPED, "--env", "prod", "--format", "json").stdout)
    assert dev.servers[0].container.gpu != prod.servers[0].container.gpu


def test_environment_comes_from_modal_environment_without_flag(run_mdeploy):
    result = run_mdeploy("plan", SHIPPED, "--format", "json", env={"MODAL_ENVIRONMENT": "prod"})
    assert json.loads(result.stdout)["environment"] == "prod"


def test_plan_is_deterministic_across_runs(run_mdeploy):
    first = run_mdeploy("plan", SHIPPED, "--env", "prod", "--format", "markdown")
    second = run_mdeploy("plan", SHIPPED, "--env", "prod", "--format", "markdown")
    assert first.returncode == 0 and first.stdout == second.stdout


def test_missing_manifest_is_one_line_error_not_traceback(run_mdeploy):
    result = run_mdeploy("plan", "manifests/does-not-exist.yaml")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_plan_never_shows_a_secret_value_from_the_environment(run_mdeploy):
    token = "hf_" + "Zq8" * 12
    result = run_mdeploy("plan", SHIPPED, "--env", "prod", env={"HF_TOKEN": token, "API_KEY": token})
    assert result.returncode == 0, result.stderr
    assert token not in result.stdout + result.stderr
    assert "huggingface-secret" in result.stdout  # the secret is shown by name


def test_an_env_without_an_overlay_is_a_note_on_stderr_with_did_you_mean(run_mdeploy):
    result = run_mdeploy("plan", SHIPPED, "--env", "prdo", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "note: manifests/chat.yaml has no overlay for environment 'prdo' (did you mean 'prod'?); "
        "planned as its base alone\n"
    )
    assert codec.from_json(result.stdout).environment == "prdo"  # stdout is still the Blueprint alone
    far = run_mdeploy("plan", SHIPPED, "--env", "zzz")
    assert "(overlays exist for: prod); planned as its base alone" in far.stderr


def test_an_env_with_an_overlay_or_from_modal_environment_is_no_note(run_mdeploy):
    assert run_mdeploy("plan", SHIPPED, "--env", "prod").stderr == ""
    assert run_mdeploy("plan", SHIPPED, env={"MODAL_ENVIRONMENT": "staging"}).stderr == ""


def test_a_folder_given_as_the_manifest_says_to_name_one_or_validate_them_all(run_mdeploy, tmp_path):
    for command in (("plan", "manifests"), ("deploy", "manifests/", "--dry-run"), ("eject", "manifests")):
        done = run_mdeploy(*command)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        shown = command[1].rstrip("/")
        assert done.stderr.strip() == (
            f"error: {shown} is a folder: name one manifest in it (`mdeploy validate {shown}` checks them all)"
        ), command
    spaced = tmp_path / "my manifests"
    spaced.mkdir()
    assert f"`mdeploy validate '{spaced}'`" in run_mdeploy("plan", str(spaced)).stderr


def test_a_blueprint_json_given_to_plan_says_which_commands_read_one(run_mdeploy, tmp_path):
    blueprint = tmp_path / "plan.json"
    blueprint.write_text(run_mdeploy("plan", SHIPPED, "--format", "json").stdout)
    done = run_mdeploy("plan", str(blueprint))
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"error: {blueprint}: not a manifest file (expected .yaml, .yml or .toml); a Blueprint's .json is read "
        "by serve, run and bench, and the other commands take the manifest it was planned from"
    )
