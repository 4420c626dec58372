"""`mdeploy diff` through the real CLI: against a git ref (a temporary repository), against
another environment, and --changed over a directory of manifests."""

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
REVISION = "0e9e39f249a16976918f6564b8830bc894c89659"


def _manifest(app: str, gpu: str, max_containers: int) -> str:
    return f"""version: 1
app: {app}
secrets:
  hf:
    name: huggingface-secret
services:
  chat:
    kind: llm
    engine: vllm
    model:
      id: meta-llama/Llama-3.1-8B-Instruct
      revision: {REVISION}
    gpu: {gpu}
    secrets: [hf]
    scaling:
      min_containers: 1
      max_containers: {max_containers}
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env={**os.environ, **GIT_ENV})


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with manifests/chat.yaml (A100, max 2) and a prod overlay, committed."""
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "chat.yaml").write_text(_manifest("chat", "A100", 2))
    (tmp_path / "manifests" / "chat.prod.yaml").write_text("services:\n  chat:\n    region: us-east\n")
    (tmp_path / "manifests" / "other.yaml").write_text(_manifest("other", "L4", 1))
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "manifests")
    return tmp_path


def _edit_gpu_and_scaling(repo: Path) -> None:
    (repo / "manifests" / "chat.yaml").write_text(_manifest("chat", "H100", 6))


def test_unchanged_working_tree_has_no_changes_and_exit_zero(run_mdeploy, repo):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--env", "prod", "--against", "HEAD", "--exit-code", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "no changes" in result.stdout


def test_diff_against_head_reports_exactly_the_edited_fields(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    result = run_mdeploy(
        "diff", "manifests/chat.yaml", "--env", "prod", "--against", "HEAD", "--format", "json", cwd=repo
    )
    assert result.returncode == 0, result.stderr
    (diff,) = json.loads(result.stdout)
    assert (diff["old"], diff["new"], diff["source"]) == ("HEAD", "working tree", "manifests/chat.yaml")
    (obj,) = diff["objects"]
    assert (obj["kind"], obj["key"]) == ("server", "chat")
    assert {(f["path"], json.dumps(f["old"]), json.dumps(f["new"])) for f in obj["fields"]} == {
        ("container.gpu", '["A100"]', '["H100"]'),
        ("container.scaling.max_containers", "2", "6"),
        # vLLM's own batch size follows the GPU (256 on an A100, 1024 on an H100): shown, since
        # the reviewer's edit changes it
        ("max_sequences", "256", "1024"),
    }


def test_diff_against_head_reports_the_cost_change(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    result = run_mdeploy(
        "diff", "manifests/chat.yaml", "--env", "prod", "--against", "HEAD", "--format", "json", cwd=repo
    )
    cost = json.loads(result.stdout)[0]["cost"]
    # One warm container: A100 (40 GB price) -> H100; peak: 2 A100s -> 6 H100s. Each container
    # also pays Modal's default CPU and memory request, and prod pins region us-east (x1.75).
    cpu_memory = (0.125 * 0.0000131 + 0.125 * 0.00000222) * 3600
    assert cost["old"]["idle"] == pytest.approx(1.75 * (0.000583 * 3600 + cpu_memory), abs=1e-3)
    assert cost["new"]["idle"] == pytest.approx(1.75 * (0.001097 * 3600 + cpu_memory), abs=1e-3)
    assert cost["new"]["peak"] == pytest.approx(6 * 1.75 * (0.001097 * 3600 + cpu_memory), abs=1e-3)


def test_text_diff_shows_fields_and_cost_lines(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    result = run_mdeploy("diff", "manifests/chat.yaml", "--env", "prod", "--against", "HEAD", cwd=repo)
    assert 'container.gpu: ["A100"] -> ["H100"]' in result.stdout
    assert "container.scaling.max_containers: 2 -> 6" in result.stdout
    assert "total cost: idle $3.68/h -> $6.92/h (+$3.24/h)" in result.stdout


def test_exit_code_flag_exits_2_when_something_changed(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", "--exit-code", cwd=repo)
    assert result.returncode == 2, result.stderr


def test_without_exit_code_flag_a_change_exits_zero(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    assert run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", cwd=repo).returncode == 0


def test_diff_does_not_touch_the_working_tree_or_index(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    before = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", cwd=repo)
    after = subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True, text=True).stdout
    assert before == after == " M manifests/chat.yaml\n"
    assert "H100" in (repo / "manifests" / "chat.yaml").read_text()


def test_overlay_change_at_ref_is_seen(run_mdeploy, repo):
    (repo / "manifests" / "chat.prod.yaml").write_text("services:\n  chat:\n    region: eu-west\n")
    result = run_mdeploy("diff", "manifests/chat.yaml", "--env", "prod", "--against", "HEAD", cwd=repo)
    assert 'container.region: ["us-east"] -> ["eu-west"]' in result.stdout


def test_manifest_new_since_the_ref_is_all_added(run_mdeploy, repo):
    (repo / "manifests" / "new.yaml").write_text(_manifest("new", "T4", 1))
    result = run_mdeploy("diff", "manifests/new.yaml", "--against", "HEAD", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "new: only on the new side" in result.stdout and "+ server chat" in result.stdout


def test_unknown_ref_is_a_one_line_error(run_mdeploy, repo):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "nope", cwd=repo)
    assert result.returncode == 1
    assert result.stderr.startswith("error: git ref 'nope' does not name a commit")


UNKNOWN_GPU = "ZZ9-value-42"  # a problem's message quotes it: the diff must not


@pytest.fixture
def fixed_repo(repo: Path) -> Path:
    """main's chat.yaml is committed invalid (an unknown key, an unknown GPU); the working tree fixes it."""
    broken = _manifest("chat", UNKNOWN_GPU, 6).replace("version: 1", "version: 1\nbogus: 1")
    (repo / "manifests" / "chat.yaml").write_text(broken)
    _git(repo, "commit", "-q", "-am", "broken")
    _edit_gpu_and_scaling(repo)
    return repo


INVALID_NOTE = (
    "manifests/chat.yaml was invalid at HEAD (2 problems, first at HEAD:manifests/chat.yaml:2:1, key bogus): "
    "everything shows as added"
)


def test_manifest_invalid_at_the_ref_shows_as_added_with_a_note_in_text(run_mdeploy, fixed_repo):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", cwd=fixed_repo)
    assert result.returncode == 0, result.stderr
    assert "new: only on the new side" in result.stdout and "+ server chat" in result.stdout
    assert f"  ! {INVALID_NOTE}" in result.stdout.splitlines()
    assert "mdeploy-ref-" not in result.stdout


def test_manifest_invalid_at_the_ref_shows_as_added_with_a_note_in_markdown(run_mdeploy, fixed_repo):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", "--format", "markdown", cwd=fixed_repo)
    assert result.returncode == 0, result.stderr
    assert "| + server `chat` | _added_ | | |" in result.stdout
    assert (
        "> **Note:** `manifests/chat.yaml` was invalid at `HEAD` (2 problems, first at "
        "`HEAD:manifests/chat.yaml:2:1`, key `bogus`): everything shows as added"
    ) in result.stdout.splitlines()


def test_manifest_invalid_at_the_ref_shows_as_added_with_a_note_in_json(run_mdeploy, fixed_repo):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", "--format", "json", cwd=fixed_repo)
    assert result.returncode == 0, result.stderr
    (diff,) = json.loads(result.stdout)
    assert (diff["status"], diff["note"]) == ("added", INVALID_NOTE)
    assert diff["old_invalid"] == {
        "problems": 2,
        "first_location": "HEAD:manifests/chat.yaml:2:1",
        "first_key": "bogus",
    }


def test_manifest_invalid_at_the_ref_never_shows_a_problems_value(run_mdeploy, fixed_repo):
    for fmt in ("text", "markdown", "json"):
        result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", "--format", fmt, cwd=fixed_repo)
        assert UNKNOWN_GPU not in result.stdout + result.stderr, fmt


def test_manifest_invalid_at_the_ref_still_exits_2_with_exit_code(run_mdeploy, fixed_repo):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", "--exit-code", cwd=fixed_repo)
    assert result.returncode == 2, result.stderr


def test_changed_includes_a_manifest_invalid_at_the_ref_as_added(run_mdeploy, fixed_repo):
    result = run_mdeploy("diff", "--changed", "--against", "HEAD", "manifests", "--format", "json", cwd=fixed_repo)
    assert result.returncode == 0, result.stderr
    chat = [
        (d["environment"], d["status"], d.get("note"))
        for d in json.loads(result.stdout)
        if d["source"] == "manifests/chat.yaml"
    ]
    assert chat == [("main", "added", INVALID_NOTE), ("prod", "added", INVALID_NOTE)]


def test_changed_with_an_overlay_invalid_at_the_ref_adds_only_that_environment(run_mdeploy, repo):
    (repo / "manifests" / "chat.prod.yaml").write_text("services:\n  chat:\n    bogus: 1\n")
    _git(repo, "commit", "-q", "-am", "broken overlay")
    (repo / "manifests" / "chat.prod.yaml").write_text("services:\n  chat:\n    region: us-east\n")
    result = run_mdeploy("diff", "--changed", "--against", "HEAD", "manifests", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    (diff,) = json.loads(result.stdout)
    assert (diff["source"], diff["environment"], diff["status"]) == ("manifests/chat.yaml", "prod", "added")
    assert diff["old_invalid"]["first_location"].startswith("HEAD:manifests/chat.prod.yaml:")


def test_working_tree_invalid_stays_a_located_error_when_the_ref_is_invalid_too(run_mdeploy, fixed_repo):
    (fixed_repo / "manifests" / "chat.yaml").write_text(
        _manifest("chat", "H100", 6).replace("version: 1", "version: 1\nstill_bogus: 1")
    )
    for args in (["manifests/chat.yaml"], ["--changed", "manifests"]):
        result = run_mdeploy("diff", *args, "--against", "HEAD", cwd=fixed_repo)
        assert result.returncode == 1, args
        assert "manifests/chat.yaml:2:1: still_bogus:" in result.stderr
        assert result.stdout == ""


def test_working_tree_invalid_is_a_located_error_when_the_ref_is_valid(run_mdeploy, repo):
    (repo / "manifests" / "chat.yaml").write_text(
        _manifest("chat", "H100", 6).replace("version: 1", "version: 1\nbogus: 1")
    )
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", cwd=repo)
    assert result.returncode == 1
    assert "manifests/chat.yaml:2:1: bogus:" in result.stderr and "HEAD:" not in result.stderr


def test_manifest_invalid_at_the_ref_and_deleted_since_is_a_one_line_error(run_mdeploy, fixed_repo):
    (fixed_repo / "manifests" / "chat.yaml").unlink()
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", cwd=fixed_repo)
    assert result.returncode == 1
    assert result.stderr == (
        "error: manifests/chat.yaml: deleted from the working tree, and invalid at HEAD (2 problems): nothing to compare\n"
    )


def test_changed_lists_only_changed_manifests_and_environments(run_mdeploy, repo):
    (repo / "manifests" / "chat.prod.yaml").write_text("services:\n  chat:\n    region: eu-west\n")
    (repo / "manifests" / "new.yaml").write_text(_manifest("new", "T4", 1))
    (repo / "manifests" / "other.yaml").unlink()
    result = run_mdeploy("diff", "--changed", "--against", "HEAD", "manifests", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    seen = {(d["source"], d["environment"], d["status"]) for d in json.loads(result.stdout)}
    assert seen == {
        ("manifests/chat.yaml", "prod", "changed"),
        ("manifests/new.yaml", "main", "added"),
        ("manifests/other.yaml", "main", "removed"),
    }


def test_changed_with_nothing_changed_says_so(run_mdeploy, repo):
    result = run_mdeploy("diff", "--changed", "--against", "HEAD", "manifests", "--exit-code", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "no Blueprint changed since HEAD" in result.stdout


def test_changed_needs_a_git_ref(run_mdeploy, repo):
    result = run_mdeploy("diff", "--changed", "--against-env", "prod", "manifests", cwd=repo)
    assert result.returncode == 1 and "--against REF" in result.stderr


def test_diff_never_shows_a_secret_value(run_mdeploy, repo):
    token = "hf_" + "Zq8" * 12
    _edit_gpu_and_scaling(repo)
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", env={"HF_TOKEN": token}, cwd=repo)
    assert token not in result.stdout + result.stderr


def test_against_env_compares_two_environments_of_a_shipped_manifest(run_mdeploy):
    result = run_mdeploy("diff", "manifests/chat.yaml", "--env", "dev", "--against-env", "prod", "--format", "json")
    assert result.returncode == 0, result.stderr
    (diff,) = json.loads(result.stdout)
    assert (diff["old_environment"], diff["environment"]) == ("prod", "dev")
    changes = {f["path"]: (f["old"], f["new"]) for o in diff["objects"] if o["key"] == "llama" for f in o["fields"]}
    assert changes["container.gpu"] == (["H100"], ["A100"])


def test_markdown_diff_is_a_table(run_mdeploy, repo):
    _edit_gpu_and_scaling(repo)
    result = run_mdeploy("diff", "manifests/chat.yaml", "--against", "HEAD", "--format", "markdown", cwd=repo)
    assert '| ~ server `chat` | `container.gpu` | `["A100"]` | `["H100"]` |' in result.stdout


def test_manifest_deleted_since_the_ref_is_all_removed(run_mdeploy, repo):
    (repo / "manifests" / "chat.yaml").unlink()
    result = run_mdeploy("diff", "manifests/chat.yaml", "--env", "prod", "--against", "HEAD", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "removed: only on the old side" in result.stdout and "- server chat" in result.stdout


def test_manifest_absent_on_both_sides_is_a_one_line_error(run_mdeploy, repo):
    result = run_mdeploy("diff", "manifests/nope.yaml", "--against", "HEAD", cwd=repo)
    assert result.returncode == 1
    assert result.stderr == "error: manifests/nope.yaml: no such file, in the working tree or at HEAD\n"


def test_changed_with_a_path_absent_on_both_sides_is_a_one_line_error(run_mdeploy, repo):
    result = run_mdeploy("diff", "--changed", "--against", "HEAD", "no/such/folder", cwd=repo)
    assert result.returncode == 1
    assert result.stderr == "error: no/such/folder: no such file or folder, in the working tree or at HEAD\n"


def test_changed_with_a_nested_folder_deleted_since_the_ref_lists_its_manifests_removed(run_mdeploy, repo):
    nested = repo / "teams" / "search"
    nested.mkdir(parents=True)
    (nested / "rank.yaml").write_text(_manifest("rank", "L4", 1))
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "rank")
    _git(repo, "rm", "-q", "-r", "teams")
    result = run_mdeploy("diff", "--changed", "--against", "HEAD", "teams/search", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert [(d["source"], d["status"]) for d in json.loads(result.stdout)] == [("teams/search/rank.yaml", "removed")]
