"""bench_vs_vllm.py --together: two clients' requests on one clock, cut to the time both were sending.

vllm bench serve stamps with time.perf_counter() (CLOCK_MONOTONIC, shared by every process) and
mdeploy's report with Unix seconds; the figures are then computed alike from each one's stamps.
Offline: vLLM's detailed result is written here in the shape vllm bench serve 0.32 saves.
"""

import importlib.util
import sys
import time

import pytest

from .conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import bench_common  # noqa: E402
from bench_common import Stamped  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_vs_vllm", REPO / "benchmarks" / "bench_vs_vllm.py")
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)


def test_vllms_monotonic_stamps_land_on_the_wall_clock_beside_mdeploys():
    offset = time.time() - time.perf_counter()
    started = time.perf_counter()
    result = {
        "start_times": [started, started + 0.5, started + 0.7],
        "ttfts": [0.05, 0.04, 0.0],  # the last never got a token
        "latencies": [0.35, 0.34, 0.0],
        "output_lens": [4, 4, 0],
        "itls": [[0.1, 0.1, 0.1], [0.1, 0.1, 0.1], []],
        "errors": ["", "", "Never received a valid chunk"],
    }
    rows = bench.vllm_stamped(result, offset)
    assert len(rows) == 2
    assert rows[0].start == pytest.approx(time.time(), abs=5.0)
    # on the wall clock (about 1.8e9 s) a float keeps times to a few tenths of a microsecond
    assert rows[0].first - rows[0].start == pytest.approx(0.05, abs=1e-6)
    assert rows[1].last - rows[1].start == pytest.approx(0.34, abs=1e-6)
    figures = bench_common.stamped_figures(rows)
    assert figures["TTFT mean (ms)"] == pytest.approx(45.0, abs=1e-3)
    assert figures["TPOT mean (ms)"] == pytest.approx(((0.30 / 3) + (0.30 / 3)) / 2 * 1000, abs=1e-3)
    assert figures["ITL p50 (ms)"] == pytest.approx(100.0)


def test_mdeploys_records_are_moved_by_the_levels_start():
    level = {
        "started_at": 1000.0,
        "records": [
            {
                "status": "ok",
                "start": 0.5,
                "first_token": 0.6,
                "last_token": 0.9,
                "output_tokens": 4,
                "token_times": [0.1, 0.2, 0.3, 0.4],
            },
            {"status": "failed", "start": 0.5, "first_token": None, "last_token": None, "token_times": []},
        ],
    }
    (row,) = bench_common.mdeploy_stamped(level)
    assert (row.start, row.first, row.last, row.tokens) == (1000.5, 1000.6, 1000.9, 4)
    assert row.gaps == pytest.approx((0.1, 0.1, 0.1))


def test_only_requests_inside_the_time_both_clients_sent_are_compared():
    def request(start, last):
        return Stamped(start=start, first=start + 0.01, last=last, tokens=2, gaps=(last - start - 0.01,))

    vllm = [request(0.0, 1.0), request(1.0, 2.0), request(2.0, 3.0), request(3.0, 4.0)]
    mdeploy = [request(0.9, 1.9), request(1.9, 2.9), request(2.9, 3.5)]  # began later, ended sooner
    kept_mdeploy, kept_vllm = bench_common.inside_overlap(mdeploy, vllm)
    # the overlap is [0.9, 3.5]: vLLM's first request (started alone) and last (ended alone) go
    assert kept_vllm == [vllm[1], vllm[2]]
    assert kept_mdeploy == mdeploy


METRICS_BEFORE = """# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_sum{engine="0",model_name="tiny"} 1.5
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="tiny"} 0.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="tiny"} 30.0
vllm:request_time_per_output_token_seconds_sum{engine="0",model_name="tiny"} 0.3
vllm:request_time_per_output_token_seconds_count{engine="0",model_name="tiny"} 30.0
vllm:e2e_request_latency_seconds_sum{engine="0",model_name="tiny"} 12.0
vllm:e2e_request_latency_seconds_count{engine="0",model_name="tiny"} 30.0
"""


def test_the_servers_own_means_are_read_from_the_change_in_vllms_histograms(monkeypatch):
    after = (
        METRICS_BEFORE.replace(" 1.5", " 2.3")
        .replace('seconds_count{engine="0",model_name="tiny"} 30.0', 'seconds_count{engine="0",model_name="tiny"} 40.0')
        .replace(" 0.3\n", " 0.4\n")
        .replace(" 12.0", " 18.0")
    )
    pages = iter([METRICS_BEFORE, after])

    class Answer:
        def __init__(self, text):
            self.text = text

        def read(self):
            return self.text.encode()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(bench_common.urllib.request, "urlopen", lambda url, timeout: Answer(next(pages)))
    before = bench_common.server_histograms("http://server/v1")
    assert before["vllm:time_to_first_token_seconds"] == (1.5, 30.0)
    means = bench_common.server_means(before, bench_common.server_histograms("http://server/v1"))
    # 10 requests between the readings: 0.8 s of TTFT, 0.1 s of TPOT, 6 s of E2E in all
    assert means == pytest.approx({"TTFT mean (ms)": 80.0, "TPOT mean (ms)": 10.0, "E2E mean (ms)": 600.0})


def test_a_server_without_metrics_gives_no_server_column(monkeypatch):
    def refuse(url, timeout):
        raise OSError("404")

    monkeypatch.setattr(bench_common.urllib.request, "urlopen", refuse)
    assert bench_common.server_histograms("http://server") is None
    assert bench_common.server_means(None, None) is None


def test_a_page_without_vllms_histograms_is_no_reading(monkeypatch):
    class Answer:
        def read(self):
            return b'{"status":"ok"}'  # sse_stream_server.py answers every GET so

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(bench_common.urllib.request, "urlopen", lambda url, timeout: Answer())
    assert bench_common.server_histograms("http://server") is None
