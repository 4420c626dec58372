"""`mdeploy explain` through the real CLI, on the shipped chat manifest and its prod overlay."""

from __future__ import annotations

import pytest

SHIPPED = "manifests/chat.yaml"


def test_overlay_value_names_the_overlay_file_and_line(run_mdeploy, repo_root):
    result = run_mdeploy("explain", SHIPPED, "--env", "prod", "services.llama.gpu")
    assert result.returncode == 0, result.stderr
    lines = (repo_root / "manifests" / "chat.prod.yaml").read_text().splitlines()
    line_no = next(i for i, line in enumerate(lines, start=1) if line.strip().startswith("gpu:"))
    assert '= "H100"' in result.stdout
    assert f"manifests/chat.prod.yaml:{line_no}:" in result.stdout


def test_base_value_names_the_base_file_without_the_overlay(run_mdeploy):
    result = run_mdeploy("explain", SHIPPED, "--env", "dev", "services.llama.gpu")
    assert result.returncode == 0, result.stderr
    assert '= "A100"' in result.stdout and "manifests/chat.yaml:" in result.stdout


def test_blueprint_key_planned_from_a_duration_names_its_manifest_key(run_mdeploy):
    result = run_mdeploy("explain", SHIPPED, "--env", "prod", "servers.llama.container.scaling.scaledown_window")
    assert result.returncode == 0, result.stderr
    assert "= 900" in result.stdout
    assert "services.llama.scaling.scaledown_window" in result.stdout and "chat.prod.yaml" in result.stdout


def test_launch_command_is_explained_as_the_engines(run_mdeploy):
    result = run_mdeploy("explain", SHIPPED, "--env", "prod", "servers.llama.command")
    assert result.returncode == 0, result.stderr
    assert "vllm engine" in result.stdout


def test_planner_default_is_said_to_be_one(run_mdeploy):
    result = run_mdeploy("explain", SHIPPED, "--env", "prod", "servers.llama.exit_grace_period")
    assert result.returncode == 0, result.stderr
    assert "not set in any manifest file" in result.stdout


def test_unknown_key_is_a_one_line_error(run_mdeploy):
    result = run_mdeploy("explain", SHIPPED, "--env", "prod", "services.llama.nope")
    assert result.returncode == 1
    assert result.stderr.startswith("error: 'services.llama.nope' is not a key")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "key, meant",
    [
        ("services.lama.gpu", "services.llama.gpu"),  # an entry misspelled
        ("services.llama.scaling.max_containrs", "services.llama.scaling.max_containers"),
        ("servers.llama.contaner.gpu", "servers.llama.container.gpu"),  # a Blueprint key
    ],
)
def test_a_misspelled_key_is_answered_with_the_one_meant(run_mdeploy, key, meant):
    result = run_mdeploy("explain", SHIPPED, key)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {key!r} is not a key of the merged manifest or of the Blueprint of {SHIPPED}: did you mean '{meant}'?"
    )


def test_a_real_key_left_unset_is_not_taken_for_a_slip_of_its_neighbour(run_mdeploy):
    # The base sets no `buffer_containers` (its prod overlay does): not a slip for max_containers.
    result = run_mdeploy("explain", SHIPPED, "services.llama.scaling.buffer_containers")
    assert result.returncode == 1
    assert result.stderr.startswith("error: 'services.llama.scaling.buffer_containers' is not a key")
    assert "did you mean" not in result.stderr


def test_an_empty_key_is_a_one_line_error(run_mdeploy):
    result = run_mdeploy("explain", "manifests/chat.yaml", "")
    assert result.returncode == 1
    assert result.stderr.startswith("error: KEY '' names nothing; give a dotted key") and result.stdout == ""
