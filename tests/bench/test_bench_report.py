import json

from engine.bench.report import TOKEN_TIMES_KEPT, build_report, render_table, report_json, request_record
from engine.bench.runner import LevelOutcome
from engine.bench.stats import RequestResult, summarise_level


def _outcome(concurrency=1, results=None):
    results = results or [
        RequestResult(start=10.0, end=10.6, token_times=(10.1, 10.2, 10.3), output_tokens=3, max_tokens=3)
    ]
    return LevelOutcome(
        summarise_level(concurrency, results, wall_seconds=1.0), results, began=10.0, began_unix=1_796_000_000.0
    )


def test_report_json_round_trips_levels_and_keeps_every_request():
    report = build_report(base_url="http://x/v1", model="m", settings={"max_tokens": 3}, outcomes=[_outcome()])
    data = json.loads(report_json(report))
    level = data["levels"][0]
    assert data["version"] == 2
    assert level["concurrency"] == 1 and abs(level["ttft"]["p90"] - 0.1) < 1e-9
    (record,) = level["records"]
    assert record["status"] == "ok" and record["error"] is None
    assert (record["start"], record["first_token"], record["last_token"], record["end"]) == (0.0, 0.1, 0.3, 0.6)
    assert record["token_times"] == [0.1, 0.2, 0.3]
    assert (record["output_tokens"], record["max_tokens"]) == (3, 3)


def test_a_failed_request_is_recorded_with_its_reason():
    failed = RequestResult(start=0.0, end=0.1, error="HTTP 503: busy")
    record = request_record(failed, level_start=0.0)
    assert (record["status"], record["error"], record["first_token"]) == ("failed", "HTTP 503: busy", None)


def test_very_long_streams_keep_an_itl_summary_instead_of_every_time():
    times = tuple(0.001 * i for i in range(TOKEN_TIMES_KEPT + 1))
    record = request_record(RequestResult(start=0.0, end=3.0, token_times=times), level_start=0.0)
    assert "token_times" not in record
    assert abs(record["itl"]["p50"] - 0.001) < 1e-9 and record["token_chunks"] == TOKEN_TIMES_KEPT + 1


def test_report_json_writes_infinity_as_null():
    report = {"levels": [{"rule_of_thumb": {"ratio": float("inf")}}]}
    assert json.loads(report_json(report))["levels"][0]["rule_of_thumb"]["ratio"] is None


def test_table_has_one_row_per_level_in_milliseconds():
    table = render_table([_outcome(1).summary, _outcome(4).summary])
    rows = [line for line in table.splitlines() if line.split()[0] in ("c1", "c4")]
    assert [row.split()[0] for row in rows] == ["c1", "c4"]
    assert "100/100/100" in rows[0]  # TTFT of 0.1 s


def test_table_lists_errors_by_level_with_counts():
    results = [RequestResult(start=0.0, end=0.1, error="HTTP 503: busy")] * 2
    failed = summarise_level(2, results, wall_seconds=1.0)
    assert "c2: 2 failed: HTTP 503: busy" in render_table([failed])


def test_plots_are_written_as_png_from_the_records(tmp_path):
    from engine.bench.plots import level_samples, write_plots

    report = build_report(base_url="http://x/v1", model="m", settings={}, outcomes=[_outcome(1), _outcome(8)])
    samples = level_samples(json.loads(report_json(report))["levels"][0])
    assert [round(x, 6) for x in samples["itl"]] == [0.1, 0.1] and samples["ttft"] == [0.1]
    paths = write_plots(report, tmp_path)
    assert [p.name for p in paths] == ["latency.png", "throughput.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_table_says_when_chunks_shared_reads_and_how_late_the_client_read():
    results = [RequestResult(start=0.0, end=0.5, token_times=(0.1, 0.2, 0.2), output_tokens=3)]
    level = summarise_level(1, results, wall_seconds=1.0, read_lags=[0.0004, 0.002])
    assert "c1: 50% of ITL gaps within one read; client read lag p99 2.0 ms" in render_table([level])
