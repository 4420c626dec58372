import json

from engine.bench.report import build_report, render_table, report_json
from engine.bench.stats import RequestResult, summarise_level


def _summary(concurrency=1):
    results = [RequestResult(start=0.0, end=0.5, token_times=(0.1, 0.2, 0.3), output_tokens=3)]
    return summarise_level(concurrency, results, wall_seconds=1.0)


def test_report_json_round_trips_levels():
    report = build_report(base_url="http://x/v1", model="m", settings={"max_tokens": 3}, levels=[_summary()])
    data = json.loads(report_json(report))
    assert data["levels"][0]["concurrency"] == 1
    assert data["levels"][0]["ttft"]["p90"] == 0.1


def test_report_json_writes_infinity_as_null():
    report = {"levels": [{"rule_of_thumb": {"ratio": float("inf")}}]}
    assert json.loads(report_json(report))["levels"][0]["rule_of_thumb"]["ratio"] is None


def test_table_has_one_row_per_level_in_milliseconds():
    table = render_table([_summary(1), _summary(4)])
    rows = [line for line in table.splitlines() if line.strip()[:1].isdigit()]
    assert [row.split()[0] for row in rows] == ["1", "4"]
    assert "100/100/100" in rows[0]  # TTFT of 0.1 s


def test_table_lists_errors_by_level():
    failed = summarise_level(2, [RequestResult(start=0.0, end=0.1, error="HTTP 503: busy")], wall_seconds=1.0)
    assert "concurrency 2: error: HTTP 503: busy" in render_table([failed])


def test_plots_are_written_as_png(tmp_path):
    from engine.bench.plots import write_plots

    report = build_report(base_url="http://x/v1", model="m", settings={}, levels=[_summary(1), _summary(8)])
    paths = write_plots(report, tmp_path)
    assert [p.name for p in paths] == ["latency.png", "throughput.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
