"""Deploy tags `<commit>-<content hash>`: within Modal's tag rules, decoded back, and honest about
a dirty checkout or none."""

from __future__ import annotations

import dataclasses
import os
import subprocess

import pytest
from modal._utils.name_utils import is_valid_tag

from engine.operate.tagging import DeployTag, content_hash, decode_tag, default_tag, git_state
from engine.planner.plan import plan_file

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


@pytest.fixture
def blueprint():
    return plan_file("manifests/chat.yaml", "prod")


def _git(repo, *args):
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    ).stdout.strip()


@pytest.mark.parametrize(
    "tag",
    [
        DeployTag("0123456789ab", False, "a" * 12),
        DeployTag("0123456789ab", True, "b" * 12),
        DeployTag(None, False, "c" * 12),
    ],
)
def test_every_form_is_a_tag_modal_deploy_accepts_and_decodes_back(tag):
    assert is_valid_tag(str(tag), max_length=50)  # modal/runner.py's own check
    assert decode_tag(str(tag)) == tag


@pytest.mark.parametrize("other", [None, "", "v1.4.0", "0123456789ab-xyz", "0123456789abc-aaaaaaaaaaaa"])
def test_other_tags_are_not_read_as_mdeploys(other):
    assert decode_tag(other) is None


def test_content_hash_ignores_the_path_the_manifest_was_named_by_and_nothing_else(blueprint):
    assert content_hash(dataclasses.replace(blueprint, source="/elsewhere/chat.yaml")) == content_hash(blueprint)
    assert content_hash(dataclasses.replace(blueprint, tags={"team": "ml"})) != content_hash(blueprint)


def test_the_tag_names_the_commit_and_whether_the_checkout_was_dirty(tmp_path, blueprint):
    _git(tmp_path, "init", "-q", "-b", "main")
    manifest = tmp_path / "app.yaml"
    manifest.write_text("version: 1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "one")
    commit = _git(tmp_path, "rev-parse", "--short=12", "HEAD")
    assert git_state(manifest) == (commit, False)
    tag = default_tag(blueprint, manifest)
    assert (tag.commit, tag.dirty, tag.content_hash) == (commit, False, content_hash(blueprint))
    manifest.write_text("version: 1\napp: x\n")
    assert git_state(manifest) == (commit, True)


def test_outside_git_the_tag_says_nogit(tmp_path, blueprint):
    manifest = tmp_path / "app.yaml"
    manifest.write_text("version: 1\n")
    assert str(default_tag(blueprint, manifest)).startswith("nogit-")
