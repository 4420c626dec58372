"""`mdeploy diff --against REF` checks the project's files (handler modules) on the working-tree
side only: the files on disk are the working tree's, so they say nothing about the ref's manifest.
A handler renamed by the change under review must show as a change, not make the ref invalid."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def _manifest(handler: str) -> str:
    return f"version: 1\napp: jobs\nfunctions:\n  work:\n    handler: {handler}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """`jobs.old:run` committed; the working tree renames the module to jobs/new.py."""
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    (tmp_path / "jobs" / "old.py").write_text("def run(item):\n    return item\n")
    (tmp_path / "app.yaml").write_text(_manifest("jobs.old:run"))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "jobs")
    (tmp_path / "jobs" / "old.py").rename(tmp_path / "jobs" / "new.py")
    (tmp_path / "app.yaml").write_text(_manifest("jobs.new:run"))
    return tmp_path


def test_the_ref_side_is_planned_without_the_working_trees_files(run_mdeploy, repo):
    done = run_mdeploy("diff", "app.yaml", "--against", "HEAD", "--format", "json", cwd=repo)
    assert done.returncode == 0, done.stderr
    (diff,) = json.loads(done.stdout)
    assert diff.get("old_invalid") is None
    (obj,) = diff["objects"]
    assert [(f["path"], f["old"], f["new"]) for f in obj["fields"]] == [("handler", "jobs.old:run", "jobs.new:run")]


def test_the_working_tree_side_is_checked_against_its_files(run_mdeploy, repo):
    (repo / "app.yaml").write_text(_manifest("jobs.gone:run"))
    done = run_mdeploy("diff", "app.yaml", "--against", "HEAD", cwd=repo)
    assert done.returncode == 1
    assert done.stderr.startswith("app.yaml:5:14: functions.work.handler: no module 'jobs.gone' in this project")
