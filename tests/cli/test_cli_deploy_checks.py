"""`mdeploy deploy` around Modal's deploy: strategy, the default tag, the smoke check of every LLM
service and web endpoint, and the rollback when it fails. Through the real CLI, with a fake
`modal` (tests/support/fake_modal.py) recording every call and local HTTP servers as endpoints."""

from __future__ import annotations

import re

import pytest

from engine.cli.deploy import entry_module
from tests.support import modal_replies as replies
from tests.support.fake_http import FakeEndpoint
from tests.support.fake_modal import FakeModal

CHAT = "manifests/chat.yaml"  # one vLLM server `llama`, proxy auth on
WEB = "manifests/web-api.yaml"  # one public ASGI app `api`
PROXY = {"MDEPLOY_PROXY_TOKEN_ID": "wk-proxy-id", "MDEPLOY_PROXY_TOKEN_SECRET": "ws-proxy-secret-value"}


@pytest.fixture
def modal(tmp_path):
    fake = FakeModal(tmp_path)
    fake.reply("deploy", stdout="✓ App deployed in 12.0s! 🎉\n")
    fake.reply("app", "rollback", stdout="✓ Deployment rollback successful!\n")
    return fake


def _serve(modal: FakeModal, endpoint: FakeEndpoint) -> None:
    modal.reply(
        "server", "info", "chat/llama", json_data=replies.server_info("chat", "llama", "fu-1", url=endpoint.url)
    )


def test_deploy_passes_the_strategy_and_smoke_checks_the_server_through_proxy_auth(run_mdeploy, repo_root, modal):
    with FakeEndpoint("llm", require={"Modal-Key": "wk-proxy-id", "Modal-Secret": "ws-proxy-secret-value"}) as server:
        _serve(modal, server)
        result = run_mdeploy(
            "deploy", CHAT, "--env", "prod", "--tag", "v9", "--strategy", "recreate", env=modal.env(repo_root, **PROXY)
        )
    assert result.returncode == 0, result.stderr
    assert modal.calls() == [
        ["deploy", str(entry_module()), "--env", "prod", "--tag", "v9", "--strategy", "recreate"],
        ["server", "info", "chat/llama", "--env", "prod", "--json"],
    ]
    assert [(r["method"], r["path"]) for r in server.requests] == [("GET", "/health"), ("POST", "/v1/chat/completions")]
    chat = server.requests[1]
    assert b'"model": "llm"' in chat["body"]  # the manifest's served_name and b'"max_tokens": 1' in chat["body"]
    line = next(line for line in result.stdout.splitlines() if line.startswith("smoke: server llama"))
    assert re.fullmatch(
        r"smoke: server llama: ok: GET /health 200 \(\d+ ms\); POST /v1/chat/completions 200 \(\d+ ms\)", line
    )
    assert "smoke: all 1 passed" in result.stdout
    assert "ws-proxy-secret-value" not in result.stdout + result.stderr


def test_a_failed_smoke_check_rolls_back_with_the_same_strategy(run_mdeploy, repo_root, modal):
    with FakeEndpoint("broken") as server:
        _serve(modal, server)
        result = run_mdeploy(
            "deploy",
            CHAT,
            "--env",
            "prod",
            "--tag",
            "v9",
            "--strategy",
            "rolling",
            "--rollback-on-failure",
            env=modal.env(repo_root, **PROXY),
        )
    assert result.returncode == 1
    assert modal.calls()[-1] == ["app", "rollback", "chat", "--strategy", "rolling", "--env", "prod"]
    assert "smoke: server llama: FAILED: GET /health 500" in result.stdout
    assert result.stderr.strip() == "error: smoke check failed for 1 of 1; rolled back to the previous version"


def test_a_failed_smoke_check_without_the_flag_leaves_the_new_version_and_says_so(run_mdeploy, repo_root, modal):
    with FakeEndpoint("no-choices") as server:
        _serve(modal, server)
        result = run_mdeploy("deploy", CHAT, "--env", "prod", "--tag", "v9", env=modal.env(repo_root, **PROXY))
    assert result.returncode == 1
    assert not any(call[:2] == ["app", "rollback"] for call in modal.calls())
    assert "POST /v1/chat/completions 200" in result.stdout and "no `choices` in the reply" in result.stdout
    assert "--rollback-on-failure rolls back" in result.stderr


def test_proxy_auth_without_a_token_in_the_environment_fails_the_check_naming_the_variables(
    run_mdeploy, repo_root, modal
):
    with FakeEndpoint("llm") as server:
        _serve(modal, server)
        result = run_mdeploy("deploy", CHAT, "--env", "prod", "--tag", "v9", env=modal.env(repo_root))
    assert result.returncode == 1
    assert server.requests == []  # nothing sent that could not authenticate
    assert "set MDEPLOY_PROXY_TOKEN_ID and MDEPLOY_PROXY_TOKEN_SECRET" in result.stdout


def test_a_public_web_endpoint_is_checked_with_one_get_and_no_auth_headers(run_mdeploy, repo_root, modal):
    with FakeEndpoint("web") as app:
        modal.reply(
            "function",
            "info",
            "notes-api/api",
            json_data=replies.function_info("notes-api", "api", "fu-2", url=app.url),
        )
        result = run_mdeploy("deploy", WEB, "--env", "prod", "--tag", "v1", env=modal.env(repo_root, **PROXY))
    assert result.returncode == 0, result.stderr
    assert [(r["method"], r["path"]) for r in app.requests] == [("GET", "/")]
    assert "Modal-Key" not in app.requests[0]["headers"]


def test_without_a_tag_the_deploy_is_tagged_with_the_commit_and_content_hash(run_mdeploy, repo_root, modal):
    result = run_mdeploy("deploy", "manifests/pipeline.yaml", "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    (deploy,) = modal.calls()
    tag = deploy[deploy.index("--tag") + 1]
    assert re.fullmatch(r"([0-9a-f]{12}(-dirty)?|nogit)-[0-9a-f]{12}", tag) and len(tag) <= 50
    assert "smoke: nothing to check (no LLM service or web endpoint)" in result.stdout


def test_no_smoke_skips_the_check(run_mdeploy, repo_root, modal):
    result = run_mdeploy("deploy", CHAT, "--env", "prod", "--tag", "v9", "--no-smoke", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert [c[0] for c in modal.calls()] == ["deploy"]


def test_no_smoke_with_rollback_on_failure_is_refused_before_any_call(run_mdeploy, repo_root, modal):
    """The rollback answers a failed smoke check: with --no-smoke it would silently never run."""
    args = ("deploy", CHAT, "--env", "prod", "--no-smoke", "--rollback-on-failure")
    result = run_mdeploy(*args, env=modal.env(repo_root))
    assert result.returncode == 2
    assert "argument --rollback-on-failure: not allowed with argument --no-smoke" in result.stderr
    assert modal.calls() == []
    assert run_mdeploy(*args, "--dry-run", env=modal.env(repo_root)).returncode == 2


def test_a_failed_deploy_is_not_smoke_checked(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    modal.reply("deploy", stderr="Error: image build failed\n", exit=1)
    result = run_mdeploy(
        "deploy", CHAT, "--env", "prod", "--tag", "v9", "--rollback-on-failure", env=modal.env(repo_root)
    )
    assert result.returncode == 1
    assert [c[0] for c in modal.calls()] == ["deploy"]


def test_dry_run_shows_the_smoke_check_and_the_rollback_it_would_run(run_mdeploy, tmp_path):
    env = {"MODAL_CONFIG_PATH": str(tmp_path / "none.toml"), "MODAL_TOKEN_ID": "", "MODAL_TOKEN_SECRET": ""}
    result = run_mdeploy(
        "deploy",
        CHAT,
        "--env",
        "prod",
        "--tag",
        "v9",
        "--strategy",
        "recreate",
        "--rollback-on-failure",
        "--dry-run",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.splitlines()[-5:] == [
        "then, for the URLs to smoke-check:",
        f"  {_python()} -m modal server info chat/llama --env prod --json",
        "  smoke server llama: GET /health, POST /v1/chat/completions with Modal proxy auth",
        "and if a check fails:",
        f"  {_python()} -m modal app rollback chat --strategy recreate --env prod",
    ]
    assert "--strategy recreate" in next(line for line in out.splitlines() if line.startswith("would run:"))


def _python() -> str:
    import shlex
    import sys

    return shlex.quote(sys.executable)


def test_an_object_whose_url_modal_cannot_give_fails_the_check_with_modals_words(run_mdeploy, repo_root, modal):
    modal.reply("server", "info", stderr="Error: Server 'llama' not found in app 'chat'.\n", exit=1)
    result = run_mdeploy("deploy", CHAT, "--env", "prod", "--tag", "v9", env=modal.env(repo_root, **PROXY))
    assert result.returncode == 1
    assert (
        "smoke: server llama: FAILED: `modal server info chat/llama` failed: Error: Server 'llama' not found in app 'chat'."
        in result.stdout
    )


def test_a_variable_inside_a_service_leaves_its_modal_name_in_the_dry_run(run_mdeploy, repo_root, tmp_path):
    # A `${VAR}` anywhere under services.llama once made the object's key, Modal name and class
    # symbol show as "(from ${GPU})": the dry run printed `modal server info 'chat/(from ${GPU})'`.
    # A manifest key is never a variable; only values are.
    (tmp_path / "chat.yaml").write_text((repo_root / CHAT).read_text())
    (tmp_path / "chat.prod.yaml").write_text("services:\n  llama:\n    gpu: ${GPU:-H100}\n")
    env = {
        "MODAL_CONFIG_PATH": str(tmp_path / "none.toml"),
        "MODAL_TOKEN_ID": "",
        "MODAL_TOKEN_SECRET": "",
        "GPU": "L40S",
    }
    manifest = str(tmp_path / "chat.yaml")
    result = run_mdeploy("deploy", manifest, "--env", "prod", "--tag", "v9", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert f"  {_python()} -m modal server info chat/llama --env prod --json" in result.stdout.splitlines()
    assert "  llama: vllm server, Modal name llama, class Llama" in result.stdout.splitlines()
    assert "gpu             ${GPU:-H100}" in result.stdout and "L40S" not in result.stdout
    for key, shown in (("name", '"llama"'), ("symbol", '"Llama"'), ("key", '"llama"')):
        explained = run_mdeploy("explain", manifest, "--env", "prod", f"servers.llama.{key}", env=env)
        assert explained.returncode == 0, explained.stderr
        assert explained.stdout.splitlines()[0].endswith(f"= {shown}"), explained.stdout
