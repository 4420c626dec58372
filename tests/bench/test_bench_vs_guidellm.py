"""benchmarks/bench_vs_guidellm.py's reading of guidellm's report and its ratio table, offline.

guidellm is not installed with the project (it runs from a virtualenv of its own, docs/bench.md),
so the script's full run is not part of the suite. What it computes is: a recorded guidellm 0.8.1
report (tests/bench/data/guidellm_report.json, trimmed) is read back, the per-request figures
recomputed from guidellm's timestamps must agree with the ones guidellm computed itself (that is
what makes a row pair figures of one definition), and the table's rows and ratios are checked on
a small mdeploy level written here.
"""

import importlib.util
import json

import pytest

from .conftest import REPO

spec = importlib.util.spec_from_file_location("bench_vs_guidellm", REPO / "benchmarks" / "bench_vs_guidellm.py")
assert spec is not None and spec.loader is not None
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

RECORDED = json.loads((REPO / "tests" / "bench" / "data" / "guidellm_report.json").read_text())
GUIDELLM_REQUESTS = RECORDED["benchmarks"][0]["requests"]["successful"]


def test_recomputed_figures_agree_with_guidellms_own_per_request_figures():
    derived = bench.derived(bench.guidellm_requests(RECORDED))
    assert len(derived["ttft"]) == len(GUIDELLM_REQUESTS) == 16
    for index, request in enumerate(GUIDELLM_REQUESTS):
        assert derived["ttft"][index] == pytest.approx(request["time_to_first_token_ms"])
        # guidellm's ITL is (last - first) / (n - 1): mdeploy's and vLLM's TPOT
        assert derived["tpot"][index] == pytest.approx(request["inter_token_latency_ms"])
        # guidellm's TPOT is (last - start) / n, the first token included
        assert derived["per_token"][index] == pytest.approx(request["time_per_output_token_ms"])
        # guidellm's request latency runs to the response's end, not to the last token
        assert derived["latency"][index] == pytest.approx(request["request_latency"] * 1000)
        assert derived["e2e"][index] < derived["latency"][index]


def test_guidellms_own_summary_figures_are_read_from_its_successful_requests():
    assert bench.guidellm_metric(RECORDED, "time_to_first_token_ms") == pytest.approx(
        sum(r["time_to_first_token_ms"] for r in GUIDELLM_REQUESTS) / 16
    )
    p50 = RECORDED["benchmarks"][0]["metrics"]["inter_token_latency_ms"]["successful"]["percentiles"]["p50"]
    assert bench.guidellm_metric(RECORDED, "inter_token_latency_ms", "p50") == p50


def test_the_prompts_mdeploy_sends_are_the_texts_guidellm_sent_in_order():
    prompts = bench.guidellm_prompts(RECORDED)
    first = min(GUIDELLM_REQUESTS, key=lambda r: r["info"]["timings"]["request_start"])
    text = json.loads(first["request_args"])["body"]["messages"][-1]["content"][0]["text"]
    assert len(prompts) == 16 and prompts[0] == text and all(prompts)


def mdeploy_level() -> dict:
    """Two requests of 3 tokens, one failed (left out of every derived figure)."""

    def record(status, start, first, last, end):
        return {"status": status, "start": start, "first_token": first, "last_token": last, "end": end}

    records = [
        {**record("ok", 0.0, 0.010, 0.030, 0.031), "output_tokens": 3},
        {**record("ok", 0.0, 0.020, 0.060, 0.062), "output_tokens": 3},
        {**record("failed", 0.0, None, None, 0.5), "output_tokens": None},
    ]
    return {
        "records": records,
        "ttft": {"mean": 0.015, "p50": 0.015},
        "tpot": {"mean": 0.015, "p50": 0.015},
        "e2e": {"mean": 0.045, "p90": 0.057},
        "output_tokens_per_second": 96.0,
        "requests_per_second": 32.0,
    }


def test_table_rows_pair_each_tools_figure_and_mark_the_derived_ones():
    rows = {
        label: (mine, theirs, true) for label, mine, theirs, true in bench.table_rows([mdeploy_level()], [RECORDED])
    }
    ttft_mine, ttft_theirs, _ = rows["TTFT mean (ms)"]
    assert ttft_mine == pytest.approx(15.0)  # mdeploy's summary is in seconds
    assert ttft_theirs == pytest.approx(bench.guidellm_metric(RECORDED, "time_to_first_token_ms"))
    # mdeploy reports no (last - start) / n: computed from its ok records, (30/3 + 60/3) / 2
    assert rows["(last-start)/n mean (ms) */"][0] == pytest.approx(15.0)
    # ... nor a latency to the response's end: (31 + 62) / 2
    assert rows["start->response end mean (ms) */"][0] == pytest.approx(46.5)
    # guidellm reports no latency to the last token: computed from its records
    e2e = bench.derived(bench.guidellm_requests(RECORDED))["e2e"]
    assert rows["start->last token mean (ms) /*"][1] == pytest.approx(sum(e2e) / len(e2e))
    assert rows["output tok/s"][0] == 96.0


def test_true_figures_follow_the_fake_servers_pacing_and_only_it():
    class Args:
        server, given_url, token_delay, output_len, concurrency = "fake", False, 0.01, 64, 8

    truth = bench.true_figures(Args)
    assert truth["TTFT mean (ms)"] == pytest.approx(10.0)
    assert truth["start->last token mean (ms)"] == pytest.approx(640.0)
    assert truth["output tok/s"] == pytest.approx(800.0)
    Args.given_url = True
    assert bench.true_figures(Args) is None


def test_percentile_interpolates_like_mdeploys_summary():
    from engine.bench.stats import percentile

    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    for q in (0, 50, 90, 99, 100):
        assert bench.percentile(values, q) == pytest.approx(percentile(values, q))


def test_a_successful_request_without_a_content_chunk_is_left_out_as_guidellm_leaves_it_out():
    # transformers serve with the tiny model: usage said 3 tokens, no content chunk came
    report = json.loads(json.dumps(RECORDED))
    empty = report["benchmarks"][0]["requests"]["successful"][3]
    empty["info"]["timings"].update(first_token_iteration=None, last_token_iteration=None, token_iterations=0)
    requests = bench.guidellm_requests(report)
    assert len(requests) == 15 and all(first is not None for _, first, _, _, _ in requests)
