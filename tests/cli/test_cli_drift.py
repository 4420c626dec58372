"""`mdeploy drift` through the real CLI: the deployed app as Modal reports it (a fake `modal` in
the 1.6.4 CLI's --json shapes) against the manifest's plan now, printed by the diff renderer."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from modal.types import FunctionAutoscalerSettings, ServerAutoscalerSettings

from tests.support import modal_replies as replies
from tests.support.fake_modal import FakeModal

WEB = "manifests/web-api.yaml"
CALLS = [
    ["app", "info", "notes-api", "--env", "prod", "--json"],
    ["app", "history", "notes-api", "--env", "prod", "--json"],
    ["function", "info", "notes-api/api", "--env", "prod", "--json"],
    ["function", "autoscaler", "settings", "notes-api/api", "--env", "prod", "--json"],
]


def _live_web(
    modal: FakeModal, *, max_containers: int = 20, overrides=(), tag: str | None = "release-7", **info
) -> None:
    settings = FunctionAutoscalerSettings(
        min_containers=1, max_containers=max_containers, scaledown_window=120, buffer_containers=None
    )
    modal.reply("app", "info", json_data=replies.app_info("notes-api", functions={"api": "fu-2"}, version=7))
    modal.reply("app", "history", json_data=replies.history([(6, None), (7, tag)]))
    modal.reply(
        "function",
        "info",
        "notes-api/api",
        json_data=replies.function_info(
            "notes-api", "api", "fu-2", url="https://x--notes-api.modal.run", autoscaler=settings, **info
        ),
    )
    modal.reply("function", "autoscaler", json_data=replies.autoscaler_settings(settings, list(overrides)))


def test_an_app_as_planned_has_no_drift_and_names_what_was_not_compared(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    _live_web(modal)
    result = run_mdeploy("drift", WEB, "--env", "prod", "--exit-code", env=modal.env(repo_root))
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(modal.calls()) == sorted(CALLS)
    assert result.stdout.startswith("= notes-api [manifests/web-api.yaml] prod: deployed -> manifest now: no changes\n")
    assert "not compared, as Modal does not report them and the live version has no mdeploy tag" in result.stdout
    assert "image build steps (Modal reports an image id, not its recipe)" in result.stdout


def test_a_run_time_autoscaler_override_is_drift_with_who_made_it(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    _live_web(modal, max_containers=40, overrides=[("max_containers", "alice")])
    result = run_mdeploy("drift", WEB, "--env", "prod", "--exit-code", env=modal.env(repo_root))
    assert result.returncode == 2, result.stderr
    assert "  ~ function api\n      container.scaling.max_containers: 40 -> 20\n" in result.stdout
    assert "cost: idle $0.06/h -> $0.06/h, peak $2.21/h -> $1.10/h (-$1.10/h)" in result.stdout
    assert "run-time override: function api: max_containers set by alice at 1764581400.0" in result.stdout


def test_gpus_and_resources_are_read_back_and_objects_the_manifest_lacks_show(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    _live_web(modal, gpus=[("T4", 1)], memory_mib=2048)
    modal.reply(
        "app", "info", json_data=replies.app_info("notes-api", functions={"api": "fu-2", "old-job": "fu-3"}, version=7)
    )
    modal.reply(
        "function", "info", "notes-api/old-job", json_data=replies.function_info("notes-api", "old-job", "fu-3")
    )
    result = run_mdeploy("drift", WEB, "--env", "prod", "--format", "json", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    changes = {
        (o["kind"], o["key"], o["status"]): [(f["path"], f["old"], f["new"]) for f in o["fields"]]
        for o in data["objects"]
    }
    assert changes == {
        ("function", "api", "changed"): [("container.gpu", ["T4"], []), ("container.memory", 2048, 1024)],
        ("function", "old-job", "removed"): [],
    }
    assert data["drifted"] and not data["from_deployed_commit"] and data["not_compared"]


def test_a_server_is_read_with_server_info_and_its_autoscaler(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    settings = ServerAutoscalerSettings(
        target_concurrency=32,
        min_containers=2,
        max_containers=8,
        buffer_containers=1,
        scaleup_window=None,
        scaledown_window=900,
    )
    modal.reply("app", "info", json_data=replies.app_info("chat", servers={"llama": "fu-1"}))
    modal.reply("app", "history", json_data=replies.history([(3, None)]))
    modal.reply(
        "server", "info", json_data=replies.server_info("chat", "llama", "fu-1", url="https://u", autoscaler=settings)
    )
    modal.reply("server", "autoscaler", json_data=replies.autoscaler_settings(settings, [("min_containers", "bob")]))
    result = run_mdeploy("drift", "manifests/chat.yaml", "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert ["server", "autoscaler", "settings", "chat/llama", "--env", "prod", "--json"] in modal.calls()
    assert "  ~ server llama\n      container.scaling.min_containers: 2 -> 1\n" in result.stdout
    assert "run-time override: server llama: min_containers set by bob" in result.stdout


# ---- the deployed commit as the baseline (a temporary git repository) -------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
}


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env={**os.environ, **GIT_ENV}
    )
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path, repo_root: Path) -> Path:
    work = tmp_path / "repo"
    (work / "manifests").mkdir(parents=True)
    for name in ("web-api.yaml", "web-api.prod.yaml"):
        shutil.copy(repo_root / "manifests" / name, work / "manifests" / name)
    # The handlers the manifest names must be files of the project (validate checks them).
    shutil.copytree(repo_root / "workloads", work / "workloads", ignore=shutil.ignore_patterns("__pycache__"))
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", ".")
    _git(work, "commit", "-q", "-m", "deployed")
    return work


def _deployed_tag(run_mdeploy, repo: Path, env: dict) -> str:
    result = run_mdeploy("deploy", WEB, "--env", "prod", "--dry-run", cwd=repo, env=env)
    line = next(line for line in result.stdout.splitlines() if line.startswith("would run:"))
    return line.split("--tag ")[1].split()[0]


def test_with_the_deployed_commit_what_modal_cannot_report_is_compared_too(run_mdeploy, repo_root, repo, tmp_path):
    modal = FakeModal(tmp_path)
    env = modal.env(repo_root)
    tag = _deployed_tag(run_mdeploy, repo, env)
    assert tag.startswith(_git(repo, "rev-parse", "--short=12", "HEAD") + "-")
    _live_web(modal, tag=tag)
    manifest = repo / "manifests" / "web-api.yaml"
    manifest.write_text(manifest.read_text().replace("fastapi[standard]==0.115.6", "fastapi[standard]==0.116.0"))
    result = run_mdeploy("drift", WEB, "--env", "prod", "--exit-code", cwd=repo, env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        '~ image api\n      steps[0].args: ["fastapi[standard]==0.115.6"] -> ["fastapi[standard]==0.116.0"]'
        in result.stdout
    )
    assert f"deployed side: the deployed commit {tag.split('-')[0]}" in result.stdout


def test_a_deployed_commit_that_plans_to_other_content_is_not_used(run_mdeploy, repo_root, repo, tmp_path):
    modal = FakeModal(tmp_path)
    commit = _git(repo, "rev-parse", "--short=12", "HEAD")
    _live_web(modal, tag=f"{commit}-000000000000")
    result = run_mdeploy("drift", WEB, "--env", "prod", cwd=repo, env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert f"the manifest at {commit} plans to content" in result.stdout
    assert "not the deployed 000000000000" in result.stdout


def test_an_object_modal_cannot_describe_stops_the_drift_in_one_line(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    _live_web(modal)
    modal.reply("function", "info", "notes-api/api", stderr="Error: Could not connect to the Modal server.\n", exit=1)
    result = run_mdeploy("drift", WEB, "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 1
    assert result.stderr == (
        "error: cannot read the deployed app: `modal function info notes-api/api` failed: "
        "Error: Could not connect to the Modal server.\n"
    )
