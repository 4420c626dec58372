"""Live rates over the price table, and an app's rows of the billing report."""

from __future__ import annotations

import pytest

from engine.errors import UserError
from engine.operate.billing import app_actual_cost, live_price_table, parse_since, report_call
from engine.plan.cost import load_price_table
from tests.support import modal_replies as replies

TABLE = load_price_table()


@pytest.mark.parametrize(
    "name,entry",
    [
        ("gpu.a100-80gb", "A100-80GB"),
        ("A100", "A100-40GB"),
        ("gpu_l40s", "L40S"),
        ("L4", "L4"),
        ("a10g", "A10"),
        ("H100!", "H100"),
        ("gpu.b200", "B200"),
        ("b300", "B300"),
    ],
)
def test_a_rate_is_matched_to_the_longest_gpu_name_it_contains(name, entry):
    doubled = TABLE.gpu[entry] * 2
    live = live_price_table({name: str(doubled)}, TABLE, "2026-12-02")
    assert live.used == (name,)
    assert live.table.gpu[entry] == pytest.approx(doubled)
    others = {k: v for k, v in live.table.gpu.items() if k != entry}
    assert others == {k: v for k, v in TABLE.gpu.items() if k != entry}


def test_hourly_rates_are_converted_and_cpu_and_memory_are_read():
    live = live_price_table(
        {"h100_per_hour": "3.9492", "cpu_per_core_second": "0.0000262", "memory_gib_second": "0.00000444"}, TABLE, "d"
    )
    assert live.table.gpu["H100"] == pytest.approx(0.001097)
    assert (live.table.cpu_core, live.table.memory_gib) == (pytest.approx(0.0000262), pytest.approx(0.00000444))
    assert (live.table.source_url, live.table.as_of) == ("`modal billing rates`", "d")


def test_rates_that_are_not_understood_keep_the_table_and_are_reported():
    live = live_price_table({"H100": "3.95", "egress": "0.1", "cpu": "n/a"}, TABLE, "d")
    assert live.table is TABLE and live.used == ()
    assert [why.split(" (")[0] for why in live.ignored] == ["H100", "cpu", "egress"]


@pytest.mark.parametrize(
    "since,start,resolution,hours",
    [("7d", "7 days ago", "d", 168), ("12h", "12 hours ago", "h", 12), ("2026-11-01", "2026-11-01", "d", None)],
)
def test_since_becomes_the_reports_start_and_resolution(since, start, resolution, hours):
    window = parse_since(since)
    assert (window.start, window.resolution, window.hours) == (start, resolution, hours)
    assert report_call(window, ["team"]).args[:5] == ("billing", "report", "--start", start, "--resolution")


@pytest.mark.parametrize("since", ["7", "0d", "1w", "last week"])
def test_other_windows_are_refused(since):
    with pytest.raises(UserError, match="give a number of days or hours"):
        parse_since(since)


def test_only_the_apps_rows_in_the_chosen_environment_count():
    rows = replies.billing_report(
        [
            ("chat", "prod", "2026-11-30", "GPU", "10.5"),
            ("chat", "prod", "2026-12-01", "GPU", "1.5"),
            ("chat", "dev", "2026-12-01", "GPU", "99"),
            ("other", "prod", "2026-12-01", "CPU", "5"),
        ],
        tags={"team": "ml"},
    )
    actual = app_actual_cost(rows, "chat", "prod")
    assert (actual.total, actual.rows, actual.intervals, actual.tags) == (12.0, 2, 2, {"team": "ml"})
    assert app_actual_cost(rows, "chat", None).total == 111.0
