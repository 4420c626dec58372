"""`mdeploy eject` end to end through the real CLI."""

from __future__ import annotations

import ast


def test_eject_writes_a_compilable_file(run_mdeploy, tmp_path):
    out = tmp_path / "app.py"
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod", "-o", str(out))
    assert result.returncode == 0, result.stderr
    ast.parse(out.read_text())
    assert f"wrote {out}" in result.stderr


def test_eject_without_output_prints_the_source(run_mdeploy):
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod")
    assert result.returncode == 0, result.stderr
    assert "app = modal.App(" in result.stdout


def test_eject_refuses_to_overwrite_without_force(run_mdeploy, tmp_path):
    out = tmp_path / "app.py"
    out.write_text("# mine\n")
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod", "-o", str(out))
    assert result.returncode == 1
    assert "--force" in result.stderr and "Traceback" not in result.stderr
    assert out.read_text() == "# mine\n"


def test_eject_overwrites_with_force(run_mdeploy, tmp_path):
    out = tmp_path / "app.py"
    out.write_text("# mine\n")
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod", "-o", str(out), "--force")
    assert result.returncode == 0, result.stderr
    assert out.read_text() != "# mine\n"


def test_eject_of_a_missing_manifest_is_a_clear_error(run_mdeploy, tmp_path):
    result = run_mdeploy("eject", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_eject_into_a_directory_asks_for_a_file_name(run_mdeploy, tmp_path):
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod", "-o", str(tmp_path), "--force")
    assert result.returncode == 1
    assert (
        result.stderr.strip() == f"error: {tmp_path} is a directory: name the file to write, e.g. {tmp_path / 'app.py'}"
    )


def test_eject_into_a_missing_directory_names_it(run_mdeploy, tmp_path):
    out = tmp_path / "missing" / "app.py"
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod", "-o", str(out))
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: cannot write {out}: there is no directory {out.parent}"


def test_eject_to_a_name_the_file_system_refuses_is_a_clear_error(run_mdeploy, tmp_path):
    out = tmp_path / ("x" * 300 + ".py")  # longer than any Linux file name (255 bytes)
    result = run_mdeploy("eject", "manifests/chat.yaml", "--env", "prod", "-o", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: cannot write {out}: File name too long")
