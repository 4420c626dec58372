"""`mdeploy cost` through the real CLI: live rates from `modal billing rates` over the table, the
table offline (with its date), and `--actual` from `modal billing report` beside the estimate."""

from __future__ import annotations

import json

import pytest

from tests.support import modal_replies as replies
from tests.support.fake_modal import FakeModal

CHAT = "manifests/chat.yaml"  # prod: one warm H100 in us-east (x1.75), max 8
WEB = "manifests/web-api.yaml"  # tags: team=platform


def _no_credentials(tmp_path) -> dict[str, str]:
    return {"MODAL_CONFIG_PATH": str(tmp_path / "absent.toml"), "MODAL_TOKEN_ID": "", "MODAL_TOKEN_SECRET": ""}


def test_without_credentials_the_table_prices_the_plan_and_says_its_date(run_mdeploy, tmp_path):
    result = run_mdeploy("cost", CHAT, "--env", "prod", env=_no_credentials(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "server llama  H100  $6.92/h        $6.92/h  $55.38/h" in result.stdout
    assert "prices: the price table of 2026-07-01 (engine/plan/prices.json)" in result.stdout
    assert "offline or no Modal credentials: prices from the table, not live" in result.stdout


def test_live_rates_replace_the_table_where_modal_gives_them(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    # H100 at twice the table's rate; a name with no resource in it is reported, not used.
    modal.reply(
        "billing",
        "rates",
        json_data=replies.billing_rates(
            {"gpu.h100": "0.002194", "cpu": "0.0000131", "memory": "0.00000222", "sandbox.seconds": "0.5"}
        ),
    )
    result = run_mdeploy("cost", CHAT, "--env", "prod", "--format", "json", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert modal.calls() == [["billing", "rates", "--json"]]
    data = json.loads(result.stdout)
    (llama,) = data["estimate"]["objects"]
    assert llama["breakdown"]["gpu"] == round(0.002194 * 3600 * 1.75, 4)
    assert data["prices"].startswith("Modal's live rates (3 from `modal billing rates`")
    assert data["estimate"]["source_url"] == "`modal billing rates`"
    assert data["notes"] == ["live rate not used: sandbox.seconds (no GPU, CPU or memory in its name)"]


def test_a_live_rate_in_an_unexpected_unit_is_not_taken(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    modal.reply("billing", "rates", json_data={"H100": "3.95"})  # per hour, but not said so
    result = run_mdeploy("cost", CHAT, "--env", "prod", env=modal.env(repo_root))
    assert "$6.92/h" in result.stdout  # the table's price
    assert "live rate not used: H100 (unit not understood" in result.stdout


def test_unreachable_rates_fall_back_to_the_table_in_one_line(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    modal.reply("billing", "rates", stderr="Error: Could not connect to the Modal server.\n", exit=1)
    result = run_mdeploy("cost", CHAT, "--env", "prod", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert (
        "live rates unavailable (`modal billing rates` failed: Error: Could not connect to the Modal server.): "
        "the price table of 2026-07-01 (engine/plan/prices.json)"
    ) in result.stdout


def test_actual_cost_reads_the_billing_report_of_the_app_beside_the_estimate(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    modal.reply("billing", "rates", json_data={})
    modal.reply(
        "billing",
        "report",
        json_data=replies.billing_report(
            [
                ("notes-api", "prod", "2026-11-30", "CPU", "1.20"),
                ("notes-api", "prod", "2026-11-30", "Memory", "0.30"),
                ("notes-api", "prod", "2026-12-01", "CPU", "1.00"),
                ("notes-api", "dev", "2026-12-01", "CPU", "9.00"),  # another environment
                ("chat", "prod", "2026-12-01", "GPU (H100)", "50.00"),  # another app
            ],
            tags={"team": "platform"},
        ),
    )
    result = run_mdeploy("cost", WEB, "--env", "prod", "--actual", "--since", "7d", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert sorted(modal.calls()) == [
        ["billing", "rates", "--json"],
        [
            "billing",
            "report",
            "--start",
            "7 days ago",
            "--resolution",
            "d",
            "--show-resources",
            "--tag-names",
            "team",
            "--json",
        ],
    ]
    out = result.stdout
    assert "actual, the last 7 days (full days): $2.50, $0.01/h on average" in out
    assert "  CPU: $2.20\n  Memory: $0.30\n" in out
    assert "estimate per hour: idle $0.06/h, peak $1.10/h" in out
    assert "tags: team=platform" in out


def test_actual_cost_needs_credentials_and_says_so_in_one_line(run_mdeploy, tmp_path):
    result = run_mdeploy("cost", WEB, "--env", "prod", "--actual", env=_no_credentials(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: no Modal credentials") and "`mdeploy cost --dry-run`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_since_that_is_not_a_window_is_refused(run_mdeploy, tmp_path):
    result = run_mdeploy("cost", WEB, "--actual", "--since", "a week", "--dry-run", env=_no_credentials(tmp_path))
    assert result.returncode == 1
    assert "--since 'a week': give a number of days or hours (7d, 12h) or a date" in result.stderr


@pytest.mark.parametrize("since", ["2026-13-01", "2026-02-30", "2026-00-10"])
def test_a_since_shaped_like_a_date_that_is_none_is_refused(run_mdeploy, tmp_path, since):
    # It passed the YYYY-MM-DD shape and the dry run printed `billing report --start 2026-13-01`.
    result = run_mdeploy("cost", WEB, "--actual", "--since", since, "--dry-run", env=_no_credentials(tmp_path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: --since {since!r} is not a date: "), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_offline_calls_nothing(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    result = run_mdeploy("cost", CHAT, "--env", "prod", "--offline", env=modal.env(repo_root))
    assert result.returncode == 0, result.stderr
    assert modal.calls() == []


H200_APP = """\
version: 1
app: all-h200
services:
  big:
    kind: llm
    engine: vllm
    model: {id: Qwen/Qwen3-8B, revision: b968826d9c46dd6066d109eabc6255188de91218}
    gpu: "H200:8"
    region: %s
    exit_grace_period: 25s
    scaling: {min_containers: 1, max_containers: 2}
"""


def _h200_estimate(run_mdeploy, tmp_path, region: str) -> dict:
    manifest = tmp_path / region / "h200.yaml"
    manifest.parent.mkdir()
    manifest.write_text(H200_APP % region, encoding="utf-8")
    result = run_mdeploy("cost", str(manifest), "--offline", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["estimate"]


def test_an_all_h200_app_is_priced_and_a_pinned_region_multiplies_it(run_mdeploy, tmp_path):
    broad = _h200_estimate(run_mdeploy, tmp_path, "us")  # a broad region: x1.5
    narrow = _h200_estimate(run_mdeploy, tmp_path, "us-east")  # a narrow one: x1.75
    (big,) = broad["objects"]
    assert big["breakdown"]["gpu"] == round(8 * 0.001261 * 3600 * 1.5, 4)
    assert broad["idle_per_hour"] > 0 and broad["peak_per_hour"] == round(2 * big["per_container"], 4)
    assert narrow["objects"][0]["breakdown"]["gpu"] == round(8 * 0.001261 * 3600 * 1.75, 4)
    assert "region us-east: x1.75" in narrow["objects"][0]["notes"]


def test_the_report_shows_an_app_name_tag_and_gpu_from_variables_as_their_references(run_mdeploy, tmp_path):
    """As the plan shows them: `mdeploy cost` describes the app to humans (text and markdown)."""
    manifest = tmp_path / "h200.yaml"
    text = (H200_APP % "us").replace("app: all-h200", "app: ${APP_NAME}\ntags:\n  team: ${TEAM}")
    manifest.write_text(text.replace('gpu: "H200:8"', "gpu: ${GPU}"), encoding="utf-8")
    environ = {"APP_NAME": "zq-app-zq", "TEAM": "zq-team-zq", "GPU": "H200"}
    for fmt in ("text", "markdown"):
        result = run_mdeploy("cost", str(manifest), "--offline", "--format", fmt, env=environ)
        assert result.returncode == 0, result.stderr
        assert "${APP_NAME}" in result.stdout and "${GPU}" in result.stdout
        assert "team=${TEAM}" in result.stdout or fmt == "markdown"  # markdown names no tags
        assert "zq-" not in result.stdout + result.stderr
        assert " H200 " not in result.stdout


def test_a_report_with_no_billing_rows_names_an_app_from_a_variable_by_its_reference(run_mdeploy, repo_root, tmp_path):
    modal = FakeModal(tmp_path)
    modal.reply("billing", "rates", json_data={})
    modal.reply("billing", "report", json_data=replies.billing_report([], tags={}))
    manifest = tmp_path / "web.yaml"
    manifest.write_text((repo_root / WEB).read_text().replace("app: notes-api", "app: ${APP_NAME}"))
    (tmp_path / "workloads").symlink_to(repo_root / "workloads")
    (tmp_path / "pyproject.toml").write_text("")
    environ = {**modal.env(repo_root), "APP_NAME": "zq-app-zq"}
    result = run_mdeploy("cost", str(manifest), "--env", "prod", "--actual", env=environ)
    assert result.returncode == 0, result.stderr
    assert "actual, the last 7 days: no billing rows for app ${APP_NAME}" in result.stdout
    assert "zq-app-zq" not in result.stdout


def test_offline_and_actual_together_are_refused_before_any_call(run_mdeploy, repo_root, tmp_path):
    """--offline promises to call nothing; --actual needs Modal's billing report."""
    modal = FakeModal(tmp_path)
    result = run_mdeploy("cost", WEB, "--env", "prod", "--offline", "--actual", env=modal.env(repo_root))
    assert result.returncode == 1
    assert (
        result.stderr == "error: --offline calls nothing, but --actual reads Modal's billing report: give one of them\n"
    )
    assert modal.calls() == []


def test_since_without_actual_is_refused_rather_than_ignored(run_mdeploy, tmp_path):
    result = run_mdeploy("cost", WEB, "--since", "30d", env=_no_credentials(tmp_path))
    assert result.returncode == 1
    assert result.stderr == "error: --since '30d' is the window of --actual, which was not given; add --actual\n"
