"""`mdeploy run` and mount paths, through the real CLI: what the handler can see, said plainly.

A mount path does not exist on this machine. Env values and string arguments that name one are
pointed at the local copy (the handler sees it); a path written in the handler's code cannot be,
and run says so before the call, at the line, and again, in the same words, if the call fails
opening it. The shipped manifests/hello-jobs.yaml runs end to end.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MOUNT = "/mdeploy-test-data"  # a path no machine running the tests has


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "jobs").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "jobs" / "files.py").write_text(
        textwrap.dedent(f"""
        import os
        from pathlib import Path

        def read(path):
            return Path(path).read_text()

        def read_env():
            return (Path(os.environ["DATA_DIR"]) / "in.txt").read_text()

        def read_literal():
            return Path("{MOUNT}/in.txt").read_text()
    """)
    )
    (root / "app.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        app: files
        volumes:
          data: {{name: files-data}}
        defaults:
          volumes: {{{MOUNT}: data}}
          env: {{DATA_DIR: {MOUNT}}}
        functions:
          read: {{handler: "jobs.files:read"}}
          read-env: {{handler: "jobs.files:read_env"}}
          read-literal: {{handler: "jobs.files:read_literal"}}
    """)
    )
    local = root / ".mdeploy" / "volumes" / "files-data"
    local.mkdir(parents=True)
    (local / "in.txt").write_text("local copy")
    return root


def test_an_env_value_naming_the_mount_points_at_the_local_copy(project, run_mdeploy):
    done = run_mdeploy("run", "app.yaml", "read-env", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "local copy"


def test_a_string_argument_naming_the_mount_points_at_the_local_copy(project, run_mdeploy):
    done = run_mdeploy("run", "app.yaml", "read", "--", f'"{MOUNT}/in.txt"', cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "local copy"


def test_the_mount_line_says_what_the_handler_sees_and_what_it_does_not(project, run_mdeploy):
    done = run_mdeploy("run", "app.yaml", "read-env", cwd=project)
    assert done.stderr.splitlines()[0] == (
        f"mdeploy: volume at {MOUNT} is .mdeploy/volumes/files-data here; env values and arguments naming {MOUNT} "
        f"are pointed there, but {MOUNT} itself is not"
    )


def test_a_path_written_in_the_code_is_named_before_the_call_and_in_the_failure(project, run_mdeploy):
    done = run_mdeploy("run", "app.yaml", "read-literal", cwd=project)
    assert done.returncode == 1
    warning = next(line for line in done.stderr.splitlines() if "warning" in line)
    assert warning == (
        f"mdeploy: warning: jobs/files.py:12 names '{MOUNT}/in.txt' in code, which mdeploy run cannot point at "
        f".mdeploy/volumes/files-data: read it from an env var the manifest sets (env: {{MDEPLOY_TEST_DATA_DIR: {MOUNT}}}), "
        f"or take it as an argument"
    )
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: jobs.files:read_literal opened {MOUNT}/in.txt, under the volume mount {MOUNT}, which is not on this "
        f"machine: its local copy is .mdeploy/volumes/files-data, reached through env values and arguments that name "
        f"{MOUNT}, not through paths written in the code"
    )


def test_a_handler_that_names_no_mount_path_gets_no_warning(project, run_mdeploy):
    done = run_mdeploy("run", "app.yaml", "read-env", cwd=project)
    assert "warning" not in done.stderr


@pytest.fixture
def shipped(tmp_path) -> Path:
    for name in ("manifests", "schemas", "workloads"):
        shutil.copytree(REPO / name, tmp_path / name)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'copy'\n")
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def test_the_shipped_hello_jobs_run_end_to_end_from_another_folder(shipped, run_mdeploy):
    elsewhere = shipped / "elsewhere"
    first = run_mdeploy(
        "run", "../manifests/hello-jobs.yaml", "count-words", "--", '"the quick brown fox the"', cwd=elsewhere
    )
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert (result["words"], result["distinct"]) == (5, 4)
    saved = shipped / ".mdeploy" / "volumes" / "hello-jobs-reports" / result["saved"]
    assert json.loads(saved.read_text())["text"] == "the quick brown fox the"
    run_mdeploy("run", "../manifests/hello-jobs.yaml", "count-words", "--", '"hello world"', cwd=elsewhere)
    summary = run_mdeploy("run", "../manifests/hello-jobs.yaml", "summary", cwd=elsewhere)
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout) == {"reports": 2, "words": 7}
    assert "warning" not in first.stderr + summary.stderr
