"""git_source reads files at a ref with `git show`, never touching the working tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

import pytest

from engine.errors import UserError
from engine.manifest.errors import Location, ManifestError, Problem
from engine.review import git_source

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "chat.yaml").write_text("app: old\n")
    (tmp_path / "manifests" / "chat.prod.yaml").write_text("gpu: A100\n")
    (tmp_path / "manifests" / "README.md").write_text("not a manifest\n")
    (tmp_path / "manifests" / "nested").mkdir()
    (tmp_path / "manifests" / "nested" / "web.toml").write_text("app = 'web'\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    return tmp_path


def test_repository_root_is_found_from_a_subdirectory(repo):
    assert git_source.repository_root(repo / "manifests" / "chat.yaml") == repo.resolve()


def test_outside_a_repository_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not inside a git repository"):
        git_source.repository_root(tmp_path)


def test_unknown_ref_is_a_user_error(repo):
    with pytest.raises(UserError, match="does not name a commit"):
        git_source.verify_ref(repo, "no-such-branch")


def test_option_looking_ref_is_refused(repo):
    with pytest.raises(UserError):
        git_source.verify_ref(repo, "--all")


def test_file_is_read_as_committed_not_as_in_the_working_tree(repo):
    (repo / "manifests" / "chat.yaml").write_text("app: new\n")
    commit = git_source.verify_ref(repo, "HEAD")
    assert git_source.read_at(repo, commit, PurePosixPath("manifests/chat.yaml")) == b"app: old\n"
    assert (repo / "manifests" / "chat.yaml").read_text() == "app: new\n"


def test_file_missing_at_the_ref_reads_as_none(repo):
    commit = git_source.verify_ref(repo, "HEAD")
    assert git_source.read_at(repo, commit, PurePosixPath("manifests/new.yaml")) is None


def test_only_manifest_files_of_the_directory_are_listed(repo):
    commit = git_source.verify_ref(repo, "HEAD")
    flat = git_source.manifest_files_at(repo, commit, PurePosixPath("manifests"), recursive=False)
    deep = git_source.manifest_files_at(repo, commit, PurePosixPath("manifests"), recursive=True)
    assert [str(p) for p in flat] == ["manifests/chat.prod.yaml", "manifests/chat.yaml"]
    assert "manifests/nested/web.toml" in [str(p) for p in deep]


def test_materialise_lays_files_out_like_the_repository(repo, tmp_path_factory):
    commit = git_source.verify_ref(repo, "HEAD")
    out = tmp_path_factory.mktemp("ref")
    files = git_source.manifest_files_at(repo, commit, PurePosixPath("manifests"), recursive=True)
    git_source.materialise(repo, commit, files, out)
    assert (out / "manifests" / "nested" / "web.toml").read_text() == "app = 'web'\n"
    assert not (out / "manifests" / "README.md").exists()


def test_manifest_errors_name_the_ref_not_the_temporary_copy(tmp_path):
    error = ManifestError(Problem(Location(str(tmp_path / "manifests" / "chat.yaml"), 3, 5), "app", "bad"))
    relabelled = git_source.relabel_manifest_error(error, tmp_path, "HEAD:")
    assert relabelled.problems[0].location.file == "HEAD:manifests/chat.yaml"
    assert str(tmp_path) not in relabelled.format()
