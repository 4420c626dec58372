"""`mdeploy validate` through the real CLI: summaries, environments, and every problem located."""

from __future__ import annotations

DATA = "tests/manifest/data"
SEVERAL = f"{DATA}/mistakes/several.yaml"


def test_valid_manifest_prints_one_ok_line_and_exits_0(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"ok {DATA}/envs/svc.yaml [base]: 1 service, 0 functions\n"


def test_env_flag_validates_with_that_overlay(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml", "--env", "broken")
    assert result.returncode == 1
    assert result.stdout == f"FAIL {DATA}/envs/svc.yaml [broken]: 1 problem\n"
    assert f"{DATA}/envs/svc.broken.yaml:4:23: services.chat.scaling.min_containers:" in result.stderr


def test_naming_an_overlay_validates_its_base_in_that_environment(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.broken.yaml")
    assert result.returncode == 1
    assert result.stdout == f"FAIL {DATA}/envs/svc.yaml [broken]: 1 problem\n"
    assert f"{DATA}/envs/svc.broken.yaml:4:23: services.chat.scaling.min_containers:" in result.stderr


def test_modal_environment_is_the_default_env(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml", env={"MODAL_ENVIRONMENT": "prod"})
    assert result.returncode == 0, result.stderr
    assert "[prod]" in result.stdout


def test_all_envs_checks_base_and_every_overlay(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--all-envs")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"ok {DATA}/envs/jobs.toml [base]: 0 services, 1 function",
        f"ok {DATA}/envs/svc.yaml [base]: 1 service, 0 functions",
        f"FAIL {DATA}/envs/svc.yaml [broken]: 1 problem",
        f"ok {DATA}/envs/svc.yaml [prod]: 1 service, 0 functions",
    ]


def test_env_and_all_envs_are_exclusive(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--all-envs", "--env", "prod")
    assert result.returncode == 2


def test_several_mistakes_are_all_reported_with_positions(run_mdeploy):
    result = run_mdeploy("validate", SEVERAL)
    assert result.returncode == 1
    assert result.stdout == f"FAIL {SEVERAL} [base]: 7 problems\n"
    assert result.stderr.splitlines() == [
        f"{SEVERAL}:11:17: services.chat.model.revision: revision must be a full commit hash (40 hex characters) (pin a commit, not a branch or tag)",
        f"{SEVERAL}:13:5: services.chat.keep_warm: `keep_warm` is Modal's old name for this setting (write scaling.min_containers)",
        f"{SEVERAL}:14:16: services.chat.fast_boot: expected true or false, got the text 'no' (write true or false; YAML 1.2 reads yes/no/on/off as text)",
        f"{SEVERAL}:17:19: services.chat.secrets[1]: no secret 'openai' is declared in `secrets` (declare it under `secrets:`)",
        f"{SEVERAL}:21:22: functions.nightly.schedule.cron: hour 25 is out of range 0-23",
        f"{SEVERAL}:23:18: functions.nightly.env.API_TOKEN: looks like a secret value (an API key (sk-...)); store it in a Modal secret and reference it by name (create it with `modal secret create NAME KEY=...` and list NAME under `secrets`)",
        f"{SEVERAL}:26:13: images.base.python: expected text, got the number 3.1 (YAML reads 3.10 as a number) (quote it: \"3.10\")",
        "7 problems found",
    ]


def test_secret_value_is_never_printed(run_mdeploy):
    result = run_mdeploy("validate", SEVERAL)
    assert "sk-abcdefghijklmnopqrstuvwxyz123456" not in result.stdout + result.stderr


def test_valid_and_invalid_together_exit_1_and_report_both(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml", SEVERAL)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("ok ") and result.stdout.splitlines()[1].startswith("FAIL ")


def test_validate_does_not_import_modal(run_mdeploy):
    code = (
        "import sys; from engine.cli.main import main; rc = main(['validate', '%s']); "
        "assert 'modal' not in sys.modules, 'modal imported'; sys.exit(rc)" % f"{DATA}/envs/svc.yaml"
    )
    import subprocess
    import sys

    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_shipped_manifests_validate_in_every_environment(run_mdeploy):
    result = run_mdeploy("validate", "manifests", "--all-envs")
    assert result.returncode == 0, result.stdout + result.stderr
    assert all(line.startswith("ok ") for line in result.stdout.splitlines())


def test_a_folder_without_manifests_is_an_error_not_a_silent_pass(run_mdeploy, tmp_path):
    (tmp_path / "README.md").write_text("no manifests here", encoding="utf-8")
    result = run_mdeploy("validate", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path}: no manifests in this folder (files ending .yaml, .yml or .toml)\n"


def test_a_folder_named_like_a_manifest_is_searched_not_passed(run_mdeploy, tmp_path):
    folder = tmp_path / "chat.yaml"
    folder.mkdir()
    result = run_mdeploy("validate", str(folder))
    assert result.returncode == 1
    assert "no manifests in this folder" in result.stderr
