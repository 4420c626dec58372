"""`mdeploy deploy`: credentials checked offline first, the exact `modal deploy` command, --dry-run."""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

import pytest

import engine
from engine.cli.deploy import deploy_command, entry_module, missing_credentials

# ---- credentials, read the way modal/config.py reads them (no network) -------------------------


def test_token_in_the_environment_is_enough(tmp_path):
    env = {"MODAL_TOKEN_ID": "ak-x", "MODAL_TOKEN_SECRET": "as-y", "MODAL_CONFIG_PATH": str(tmp_path / "none.toml")}
    assert missing_credentials(env) is None


def test_half_a_token_is_not_enough(tmp_path):
    env = {"MODAL_TOKEN_ID": "ak-x", "MODAL_CONFIG_PATH": str(tmp_path / "none.toml")}
    assert "no Modal credentials" in missing_credentials(env)


def test_active_profile_of_the_config_file_provides_the_token(tmp_path):
    config = tmp_path / "modal.toml"
    config.write_text('[other]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\nactive = true\n[default]\n')
    assert missing_credentials({"MODAL_CONFIG_PATH": str(config)}) is None


def test_default_profile_is_used_when_none_is_active(tmp_path):
    config = tmp_path / "modal.toml"
    config.write_text('[default]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n')
    assert missing_credentials({"MODAL_CONFIG_PATH": str(config)}) is None


def test_modal_profile_selects_a_profile_without_a_token(tmp_path):
    config = tmp_path / "modal.toml"
    config.write_text('[default]\ntoken_id = "ak-1"\ntoken_secret = "as-1"\n[empty]\n')
    assert missing_credentials({"MODAL_CONFIG_PATH": str(config), "MODAL_PROFILE": "empty"}) is not None


def test_unreadable_config_is_reported_without_its_contents(tmp_path):
    config = tmp_path / "modal.toml"
    config.write_text('token_secret = "as-secret-value" [[[\n')
    message = missing_credentials({"MODAL_CONFIG_PATH": str(config)})
    assert "cannot read the Modal config" in message


def test_no_config_and_no_environment_means_no_credentials(tmp_path):
    assert missing_credentials({"MODAL_CONFIG_PATH": str(tmp_path / "absent.toml")}) is not None


# ---- the command -----------------------------------------------------------------------------


def test_entry_module_is_found_inside_the_installed_package():
    assert entry_module() == Path(engine.__file__).resolve().parent / "entry.py"


def test_command_is_modal_deploy_of_the_entry_with_env_and_tag():
    assert deploy_command("prod", "v1") == [
        sys.executable,
        "-m",
        "modal",
        "deploy",
        str(entry_module()),
        "--env",
        "prod",
        "--tag",
        "v1",
    ]


def test_command_leaves_the_environment_to_modal_when_none_is_chosen():
    assert "--env" not in deploy_command(None, None) and "--tag" not in deploy_command(None, None)


def test_modal_deploy_accepts_the_flags_we_pass():
    import subprocess

    out = subprocess.run([sys.executable, "-m", "modal", "deploy", "--help"], capture_output=True, text=True)
    assert "--env" in out.stdout and "--tag" in out.stdout


# ---- through the CLI (needs the planner: engine/planner/plan.py) ---------------------------

SHIPPED = "manifests/chat.yaml"


def _no_credentials(tmp_path: Path) -> dict[str, str]:
    return {"MODAL_CONFIG_PATH": str(tmp_path / "absent.toml"), "MODAL_TOKEN_ID": "", "MODAL_TOKEN_SECRET": ""}


def test_deploy_without_credentials_fails_with_one_line(run_mdeploy, tmp_path):
    result = run_mdeploy("deploy", SHIPPED, "--env", "prod", env=_no_credentials(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error: no Modal credentials")
    assert "Traceback" not in result.stderr


def test_dry_run_prints_plan_and_exact_command_without_credentials(run_mdeploy, repo_root, tmp_path):
    result = run_mdeploy("deploy", SHIPPED, "--env", "prod", "--tag", "v7", "--dry-run", env=_no_credentials(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "app chat (environment prod" in result.stdout
    would_run = next(line for line in result.stdout.splitlines() if line.startswith("would run:"))
    assert f"MDEPLOY_MANIFEST={(repo_root / SHIPPED).resolve()}" in would_run
    assert "-m modal deploy" in would_run and would_run.endswith("--env prod --tag v7")


def test_deploy_runs_modal_and_returns_its_exit_code(run_mdeploy, repo_root, tmp_path):
    # A fake `modal` module on PYTHONPATH stands in for Modal: it records its argv and the
    # manifest variable, and exits 3. No network, no token needed beyond the offline check.
    fake = tmp_path / "fake"
    (fake / "modal").mkdir(parents=True)
    (fake / "modal" / "__init__.py").write_text("")
    record = tmp_path / "record.txt"
    (fake / "modal" / "__main__.py").write_text(
        "import os, sys\n"
        f"open({str(record)!r}, 'w').write(repr((sys.argv[1:], os.environ.get('MDEPLOY_MANIFEST'))))\n"
        "print('deploying...')\n"
        "sys.exit(3)\n"
    )
    env = {
        "PYTHONPATH": f"{fake}{os.pathsep}{repo_root}",
        "MODAL_TOKEN_ID": "ak-test",
        "MODAL_TOKEN_SECRET": "as-test",
        "MODAL_CONFIG_PATH": str(tmp_path / "absent.toml"),
    }
    result = run_mdeploy("deploy", SHIPPED, "--env", "prod", "--tag", "v7", env=env)
    assert result.returncode == 3, result.stderr
    assert "deploying..." in result.stdout
    argv, manifest = ast.literal_eval(record.read_text())
    assert argv == ["deploy", str(entry_module()), "--env", "prod", "--tag", "v7"]
    assert manifest == str((repo_root / SHIPPED).resolve())


@pytest.mark.parametrize(
    ("tag", "said"),
    [
        ("has space", "not ' '"),
        ("release/1", "not '/'"),
        ("ünï", "not 'ï', 'ü'"),
        ("a" * 51, "has 51 characters: Modal allows at most 50"),
        ("", "give a tag, or leave --tag out"),
    ],
)
def test_a_tag_modal_would_refuse_is_refused_before_the_plan(run_mdeploy, tmp_path, tag, said):
    # Modal checks the tag only once the app is built and being deployed; the dry run printed a
    # command that would fail, and `--tag ''` silently became the default tag.
    result = run_mdeploy("deploy", SHIPPED, "--env", "prod", "--tag", tag, "--dry-run", env=_no_credentials(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: --tag {tag!r}") and said in result.stderr, result.stderr


@pytest.mark.parametrize("tag", ["v1.2_rc-3", "a" * 50, "-x"])
def test_every_tag_modal_takes_is_passed_as_given(run_mdeploy, tmp_path, tag):
    result = run_mdeploy("deploy", SHIPPED, "--env", "prod", f"--tag={tag}", "--dry-run", env=_no_credentials(tmp_path))
    assert result.returncode == 0, result.stderr
    would_run = next(line for line in result.stdout.splitlines() if line.startswith("would run:"))
    assert would_run.endswith(f"--env prod --tag {tag}")
