"""`mdeploy validate` through the real CLI: summaries, environments, every problem located under
its manifest, a directory validated whole, warnings and `--strict`."""

from __future__ import annotations

import pytest

DATA = "tests/manifest/data"
SEVERAL = f"{DATA}/mistakes/several.yaml"


def test_valid_manifest_prints_one_ok_line_and_a_summary_and_exits_0(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"ok {DATA}/envs/svc.yaml [base]: 1 service, 0 functions\n"
        "1 manifest, 1 environment: 1 ok, 0 failed, 0 warnings\n"
    )
    assert result.stderr == ""


def test_env_flag_validates_with_that_overlay(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml", "--env", "broken")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {DATA}/envs/svc.yaml [broken]: 1 problem"
    assert lines[1].startswith(f"{DATA}/envs/svc.broken.yaml:4:23: services.chat.scaling.min_containers:")


def test_naming_an_overlay_validates_its_base_in_that_environment(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.broken.yaml")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {DATA}/envs/svc.yaml [broken]: 1 problem"
    assert lines[1].startswith(f"{DATA}/envs/svc.broken.yaml:4:23: services.chat.scaling.min_containers:")


def test_modal_environment_is_the_default_env(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml", env={"MODAL_ENVIRONMENT": "prod"})
    assert result.returncode == 0, result.stderr
    assert "[prod]" in result.stdout


def test_all_envs_checks_base_and_every_overlay(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--all-envs")
    assert result.returncode == 1
    assert [line for line in result.stdout.splitlines() if not line.startswith(f"{DATA}/")] == [
        f"ok {DATA}/envs/jobs.toml [base]: 0 services, 1 function",
        f"ok {DATA}/envs/svc.yaml [base]: 1 service, 0 functions",
        f"FAIL {DATA}/envs/svc.yaml [broken]: 1 problem",
        f"ok {DATA}/envs/svc.yaml [prod]: 1 service, 0 functions",
        "2 manifests, 4 environments: 3 ok, 1 failed, 0 warnings",
    ]


def test_env_and_all_envs_are_exclusive(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--all-envs", "--env", "prod")
    assert result.returncode == 2


def test_several_mistakes_are_all_reported_with_positions(run_mdeploy):
    result = run_mdeploy("validate", SEVERAL)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"FAIL {SEVERAL} [base]: 7 problems",
        f"{SEVERAL}:11:17: services.chat.model.revision: revision must be a full commit hash (40 hex characters) (pin a commit, not a branch or tag)",
        f"{SEVERAL}:13:5: services.chat.keep_warm: `keep_warm` is Modal's old name for this setting (write scaling.min_containers)",
        f"{SEVERAL}:14:16: services.chat.fast_boot: expected true or false, got the text 'no' (write true or false; YAML 1.2 reads yes/no/on/off as text)",
        f"{SEVERAL}:17:19: services.chat.secrets[1]: no secret 'openai' is declared in `secrets` (declare it under `secrets:`)",
        f"{SEVERAL}:21:22: functions.nightly.schedule.cron: hour 25 is out of range 0-23",
        f"{SEVERAL}:23:18: functions.nightly.env.API_TOKEN: looks like a secret value (an API key (sk-...)); store it in a Modal secret and reference it by name (create it with `modal secret create NAME KEY=...` and list NAME under `secrets`)",
        f'{SEVERAL}:26:13: images.base.python: expected text, got the number 3.1 (YAML reads 3.10 as a number) (quote it: "3.10")',
        "1 manifest, 1 environment: 0 ok, 1 failed, 0 warnings",
    ]


def test_secret_value_is_never_printed(run_mdeploy):
    result = run_mdeploy("validate", SEVERAL)
    assert "sk-abcdefghijklmnopqrstuvwxyz123456" not in result.stdout + result.stderr


def test_valid_and_invalid_together_exit_1_and_report_both(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs/svc.yaml", SEVERAL)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("ok ") and result.stdout.splitlines()[1].startswith("FAIL ")


def test_shipped_manifests_validate_in_every_environment(run_mdeploy):
    result = run_mdeploy("validate", "manifests", "--all-envs")
    assert result.returncode == 0, result.stdout + result.stderr
    *checks, summary = result.stdout.splitlines()
    assert all(line.startswith("ok ") and "warning" not in line for line in checks)
    assert summary.endswith(f" manifests, {len(checks)} environments: {len(checks)} ok, 0 failed, 0 warnings")


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


# ---------------------------------------------------------------------------------------------
# A directory is validated whole

DIRECTORY = f"{DATA}/directory"


def test_a_directory_is_validated_whole_past_a_file_level_error(run_mdeploy):
    result = run_mdeploy("validate", DIRECTORY, "--all-envs")
    assert result.returncode == 1
    assert result.stderr == ""
    assert result.stdout.splitlines() == [
        f"ok {DIRECTORY}/chat.yaml [base]: 1 service, 0 functions",
        f"FAIL {DIRECTORY}/chat.yaml [prod]: 1 problem",
        f"{DIRECTORY}/chat.prod.toml:1:1: two overlays for environment 'prod': {DIRECTORY}/chat.prod.yaml and {DIRECTORY}/chat.prod.toml (keep one)",
        f"FAIL {DIRECTORY}/jobs.yaml [base]: 1 problem",
        f"{DIRECTORY}/jobs.yaml:6:10: functions.nightly.cpu: is not a finite number (YAML's .inf and .nan, TOML's inf and nan) (write the number you mean)",
        f"ok {DIRECTORY}/web.yaml [base]: 1 service, 0 functions, 1 image; 1 warning",
        f'{DIRECTORY}/web.yaml:5:13: images.api.python: warning: Python 3.10 is end of life: Modal\'s latest image builder (2026.10) does not offer it, and Modal 1.7 will not run apps whose images use it (write one of: "3.11", "3.12", "3.13", "3.14", "3.15")',
        f"ok {DIRECTORY}/web.yaml [staging]: 1 service, 0 functions, 1 image; 2 warnings (1 shown above)",
        f'{DIRECTORY}/web.staging.yaml:3:13: services.api.memory: warning: 64 MiB is less than Modal\'s default reservation (128 MiB) (memory is counted in MiB: did you mean "64GiB"?)',
        "3 manifests, 5 environments: 3 ok, 2 failed, 2 warnings",
    ]


def test_warnings_alone_exit_0(run_mdeploy):
    result = run_mdeploy("validate", f"{DIRECTORY}/web.yaml", "--all-envs")
    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1] == "1 manifest, 2 environments: 2 ok, 0 failed, 2 warnings"


def test_strict_makes_warnings_errors(run_mdeploy):
    result = run_mdeploy("validate", f"{DIRECTORY}/web.yaml", "--all-envs", "--strict")
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {DIRECTORY}/web.yaml [base]: 1 warning (--strict)"
    assert lines[2] == f"FAIL {DIRECTORY}/web.yaml [staging]: 2 warnings (--strict) (1 shown above)"
    assert lines[-1] == "1 manifest, 2 environments: 0 ok, 2 failed, 2 warnings"


def test_an_unreadable_file_is_a_problem_of_that_file_and_the_others_are_checked(tmp_path, monkeypatch, capsys):
    """In-process (a root test runner can read any file, so the read error is injected)."""
    import pathlib

    from engine.cli.main import main

    (tmp_path / "a.yaml").write_text("version: 1\napp: a\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("version: 1\napp: b\n", encoding="utf-8")
    real_open = pathlib.Path.open

    def refusing_open(self, *args, **kwargs):
        if self.name == "a.yaml":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", refusing_open)
    monkeypatch.delenv("MODAL_ENVIRONMENT", raising=False)
    assert main(["validate", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"FAIL {tmp_path.as_posix()}/a.yaml [base]: 1 problem",
        f"{tmp_path.as_posix()}/a.yaml:1:1: cannot read it (Permission denied)",
        f"ok {tmp_path.as_posix()}/b.yaml [base]: 0 services, 0 functions",
        "2 manifests, 2 environments: 1 ok, 1 failed, 0 warnings",
    ]


def test_a_file_that_is_not_text_does_not_stop_the_others(run_mdeploy, tmp_path):
    (tmp_path / "a.yaml").write_bytes(b"version: 1\napp: \xff\n")
    (tmp_path / "b.yaml").write_text("version: 1\napp: b\n", encoding="utf-8")
    result = run_mdeploy("validate", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        f"{tmp_path}/a.yaml:2:6: the file is not valid UTF-8 (byte 0xff) (save it as UTF-8)",
        f"ok {tmp_path}/b.yaml [base]: 0 services, 0 functions",
        "2 manifests, 2 environments: 1 ok, 1 failed, 0 warnings",
    ]


# ---------------------------------------------------------------------------------------------
# --env for an environment no manifest has an overlay for

OVERLAYS = f"{DATA}/overlays/svc.yaml"


def test_env_no_manifest_has_an_overlay_for_is_a_note_with_did_you_mean(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--env", "prdo")
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "note: no manifest checked has an overlay for environment 'prdo' (did you mean 'prod'?); "
        "each was checked as its base alone"
    )
    assert lines[-1] == "2 manifests, 2 environments: 2 ok, 0 failed, 1 warning"


def test_env_no_manifest_has_an_overlay_for_is_an_error_under_strict(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--env", "prdo", "--strict")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0].startswith("error: no manifest checked has an overlay for environment 'prdo'")


def test_env_some_manifest_has_an_overlay_for_is_no_note(run_mdeploy):
    result = run_mdeploy("validate", f"{DATA}/envs", "--env", "prod")
    assert result.returncode == 0, result.stdout
    assert not result.stdout.startswith("note:")
    assert result.stdout.splitlines()[-1] == "2 manifests, 2 environments: 2 ok, 0 failed, 0 warnings"


WEB_API = """\
version: 1
app: notes
services:
  api:
    kind: web
    app: workloads.webapi:app
    interface: asgi
"""


def test_a_web_service_missing_its_app_is_located_at_the_service_not_the_top_level_app(run_mdeploy, tmp_path):
    """The service's `app` shares its name with the top-level `app`: the problem is the service's."""
    base = tmp_path / "web.yaml"
    base.write_text(WEB_API.replace("    app: workloads.webapi:app\n", ""))
    result = run_mdeploy("validate", str(base), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith(f"{base}:4:3: services.api.app: missing required key 'app'")


def test_an_overlay_null_deleting_a_web_service_app_points_at_that_null(run_mdeploy, tmp_path):
    (tmp_path / "web.yaml").write_text(WEB_API)
    (tmp_path / "web.prod.yaml").write_text("services:\n  api:\n    app: null\n")
    result = run_mdeploy("validate", "web.yaml", "--env", "prod", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith(
        "web.prod.yaml:3:5: services.api.app: `null` deletes the required key 'app'"
    )


def test_an_unquoted_reference_inside_brackets_gets_the_quote_it_hint_at_the_reference(run_mdeploy, tmp_path):
    """YAML reads the `{` of `[${S}]` as a mapping: the parser's words alone do not say why."""
    (tmp_path / "m.yaml").write_text("version: 1\napp: x\ntags: {team: ${TEAM}}\n")
    result = run_mdeploy("validate", "m.yaml", cwd=tmp_path, env={"TEAM": "platform"})
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == (
        "m.yaml:3:14: invalid YAML: expected ',' or '}', but got '{' (while parsing a flow mapping) "
        '(inside [...] or {...} quote a ${VAR} reference: "${VAR}", or write the list or mapping one item per line)'
    )


def test_a_timezone_beside_every_is_an_unknown_key_of_the_every_schedule_not_a_typo_of_itself(run_mdeploy, tmp_path):
    """The hint came from the cron schedule's keys: "unknown key 'timezone' (did you mean 'timezone'?)"."""
    (tmp_path / "jobs.yaml").write_text(
        "version: 1\napp: jobs\nfunctions:\n  f:\n    handler: jobs:main\n    schedule: {every: 4h, timezone: UTC}\n"
    )
    (tmp_path / "jobs.py").write_text("def main():\n    pass\n")
    result = run_mdeploy("validate", "jobs.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1] == (
        "jobs.yaml:6:27: functions.f.schedule.timezone: unknown key 'timezone' (allowed keys: every)"
    )


def test_an_overlay_null_of_a_misspelt_key_is_an_unknown_key_not_a_silent_no_op(run_mdeploy, tmp_path):
    """`scalling: null` deleted nothing and validated: the base's `scaling` stayed, unremarked."""
    (tmp_path / "web.yaml").write_text(WEB_API)
    (tmp_path / "web.prod.yaml").write_text(
        "services:\n  api:\n    scalling: null\n    scaling:\n      max_container: null\nservces: null\n"
    )
    result = run_mdeploy("validate", "web.yaml", "--env", "prod", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:4] == [
        "web.prod.yaml:3:5: services.api.scalling: unknown key 'scalling': its `null` deletes nothing "
        "(did you mean 'scaling'?)",
        "web.prod.yaml:5:7: services.api.scaling.max_container: unknown key 'max_container': its `null` deletes "
        "nothing (did you mean 'max_containers'?)",
        "web.prod.yaml:6:1: servces: unknown key 'servces': its `null` deletes nothing (did you mean 'services'?)",
    ]


def test_an_overlay_null_of_a_real_key_the_base_leaves_unset_is_no_problem(run_mdeploy, repo_root, tmp_path):
    (tmp_path / "chat.yaml").write_text((repo_root / "manifests/chat.yaml").read_text())
    (tmp_path / "chat.prod.yaml").write_text(
        "services:\n  llama:\n    region: null\n    scaling:\n      buffer_containers: null\n"
    )
    result = run_mdeploy("validate", "chat.yaml", "--env", "prod", cwd=tmp_path)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("overlay", ["chat.prod.yaml", "chat.prod.toml"])
def test_an_overlay_with_nothing_but_comments_changes_nothing_in_yaml_as_in_toml(
    run_mdeploy, repo_root, tmp_path, overlay
):
    """An empty YAML overlay was "the manifest is empty (start with `version: 1`)", advice that
    is wrong for an overlay, while the same empty TOML overlay validated."""
    (tmp_path / "chat.yaml").write_text((repo_root / "manifests/chat.yaml").read_text())
    (tmp_path / overlay).write_text("# prod: the same as dev for now\n")
    result = run_mdeploy("validate", "chat.yaml", "--env", "prod", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("ok chat.yaml [prod]: 1 service")
    base = run_mdeploy("plan", "chat.yaml", "--format", "json", cwd=tmp_path)
    prod = run_mdeploy("plan", "chat.yaml", "--env", "prod", "--format", "json", cwd=tmp_path)
    assert prod.returncode == 0, prod.stderr
    assert prod.stdout.replace('"environment": "prod"', '"environment": "main"') == base.stdout


def test_an_empty_base_manifest_is_still_refused(run_mdeploy, tmp_path):
    (tmp_path / "chat.yaml").write_text("# nothing yet\n")
    result = run_mdeploy("validate", "chat.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "chat.yaml:1:1: the manifest is empty (start with `version: 1`)" in result.stdout


def test_remove_the_quotes_is_said_only_of_a_quoted_number(run_mdeploy, repo_root, tmp_path):
    """`cpu: abc`, and a `${VAR}` whose value is no number, were told to remove quotes they lack."""
    (tmp_path / "chat.yaml").write_text((repo_root / "manifests/chat.yaml").read_text())
    (tmp_path / "chat.a.yaml").write_text("services:\n  llama:\n    cpu: abc\n")
    (tmp_path / "chat.b.yaml").write_text("services:\n  llama:\n    cpu: ${CPU}\n")
    (tmp_path / "chat.c.yaml").write_text('services:\n  llama:\n    cpu: "2"\n')
    expected = {
        "a": "chat.a.yaml:3:10: services.llama.cpu: expected a number, got the text 'abc'",
        "b": "chat.b.yaml:3:10: services.llama.cpu: expected a number, got the text ${CPU}",
        "c": "chat.c.yaml:3:10: services.llama.cpu: expected a number, got the text '2' (remove the quotes)",
    }
    for env, line in expected.items():
        result = run_mdeploy("validate", "chat.yaml", "--env", env, cwd=tmp_path, env={"CPU": "four"})
        assert result.returncode == 1
        assert result.stdout.splitlines()[1] == line
        assert "four" not in result.stdout
