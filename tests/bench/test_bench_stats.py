import math

import pytest

from engine.bench.stats import (
    RequestResult,
    inter_token_latencies,
    meets_targets,
    percentile,
    rule_of_thumb,
    stream_failure,
    summarise_level,
)


def test_percentile_interpolates_linearly_between_ranks():
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([10.0, 20.0], 90) == pytest.approx(19.0)


def test_percentile_ignores_input_order():
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_percentile_extremes_are_min_and_max():
    values = [3.0, 9.0, 1.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 9.0


def test_percentile_of_one_value_is_that_value():
    assert percentile([7.0], 99) == 7.0


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_percentile_outside_0_100_is_an_error():
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_inter_token_latencies_are_gaps_between_consecutive_chunks():
    assert inter_token_latencies([1.0, 1.5, 1.75, 2.75]) == pytest.approx([0.5, 0.25, 1.0])


def test_inter_token_latencies_need_two_chunks():
    assert inter_token_latencies([1.0]) == []


def _result(start, times, tokens=None, error=None):
    return RequestResult(
        start=start, end=times[-1] if times else start, token_times=tuple(times), output_tokens=tokens, error=error
    )


def test_ttft_and_e2e_are_measured_from_the_request_start():
    summary = summarise_level(1, [_result(10.0, [10.2, 10.3, 10.4])], wall_seconds=1.0)
    assert summary.ttft["p50"] == pytest.approx(0.2)
    assert summary.e2e["p50"] == pytest.approx(0.4)


def test_tpot_is_decode_time_over_the_tokens_after_the_first():
    # vLLM's definition: (E2E - TTFT) / (output tokens - 1), with the server's token count.
    summary = summarise_level(1, [_result(0.0, [0.2, 0.3, 0.7], tokens=6)], wall_seconds=1.0)
    assert summary.tpot["p50"] == pytest.approx(0.1)


def test_itl_pools_gaps_of_all_requests():
    results = [_result(0.0, [0.1, 0.2]), _result(0.0, [0.1, 0.4])]
    summary = summarise_level(2, results, wall_seconds=1.0)
    assert summary.itl["mean"] == pytest.approx(0.2)
    assert summary.itl["p50"] == pytest.approx(0.2)


def test_server_usage_counts_override_chunk_counts_for_throughput():
    summary = summarise_level(1, [_result(0.0, [0.1, 0.2], tokens=10)], wall_seconds=2.0)
    assert summary.output_tokens_per_second == pytest.approx(5.0)


def test_chunk_count_is_used_when_the_server_sends_no_usage():
    summary = summarise_level(1, [_result(0.0, [0.1, 0.2, 0.3])], wall_seconds=1.0)
    assert summary.output_tokens_per_second == pytest.approx(3.0)


def test_failed_requests_are_counted_and_kept_out_of_latencies():
    results = [_result(0.0, [0.1, 0.2]), _result(0.0, [], error="HTTP 500: boom")]
    summary = summarise_level(2, results, wall_seconds=1.0)
    assert (summary.succeeded, summary.failed) == (1, 1)
    assert summary.requests_per_second == pytest.approx(1.0)
    assert summary.errors == {"HTTP 500: boom": 1}
    assert summary.ttft["p99"] == pytest.approx(0.1)


def test_a_stream_without_text_is_a_failure():
    summary = summarise_level(1, [_result(0.0, [])], wall_seconds=1.0)
    assert summary.failed == 1
    assert summary.ttft is None


def test_a_truncated_stream_is_a_failure_whatever_its_speed():
    base = dict(chunks=5, tokens=5, saw_done=True, finish_reason="length", max_tokens=5, ignore_eos=True)
    assert stream_failure(**base) is None
    assert "without [DONE]" in stream_failure(**{**base, "saw_done": False})
    assert "without a finish_reason" in stream_failure(**{**base, "finish_reason": None})
    # transformers serve ends with the usage chunk instead of [DONE]: that is a finished stream.
    assert stream_failure(**{**base, "saw_done": False, "saw_usage": True}) is None
    assert "without [DONE]" in stream_failure(**{**base, "saw_done": False, "saw_usage": True, "finish_reason": None})
    assert "5 of 20 tokens with ignore_eos" in stream_failure(**{**base, "max_tokens": 20})
    assert stream_failure(**{**base, "max_tokens": 20, "ignore_eos": False}) is None  # EOS may end it early
    assert stream_failure(**{**base, "chunks": 0}) == "stream ended without any token"


def test_goodput_counts_requests_meeting_every_target():
    fast = _result(0.0, [0.1, 0.12, 0.14])
    slow_gap = _result(0.0, [0.1, 0.5])
    failed = _result(0.0, [0.1], error="HTTP 500")
    assert meets_targets(fast, {"ttft": 0.2, "itl": 0.05})
    assert not meets_targets(slow_gap, {"ttft": 0.2, "itl": 0.05})  # its worst gap misses
    assert not meets_targets(failed, {"ttft": 1.0})
    summary = summarise_level(3, [fast, slow_gap, failed], wall_seconds=2.0, targets={"ttft": 0.2, "itl": 0.05})
    assert summary.goodput["good_requests"] == 1
    assert summary.goodput["share"] == pytest.approx(1 / 3)
    assert summary.goodput["requests_per_second"] == pytest.approx(0.5)


def test_client_cpu_is_reported_per_token_chunk_received():
    summary = summarise_level(1, [_result(0.0, [0.1, 0.2])], wall_seconds=1.0, client_cpu_seconds=0.001)
    assert summary.client_cpu_us_per_token == pytest.approx(500.0)


def test_rule_of_thumb_predicts_from_ttft_plus_decode_time():
    check = rule_of_thumb({"p90": 0.5}, {"p90": 0.01}, {"p90": 1.5}, tokens=101)
    assert check["predicted_p90_e2e"] == pytest.approx(1.5)
    assert check["ratio"] == pytest.approx(1.0)


def test_rule_of_thumb_holds_for_steady_streams():
    # Identical streams: TTFT 0.2 s then 0.05 s per token, 11 tokens -> TTLT 0.7 s exactly.
    results = [_result(0.0, [0.2 + 0.05 * i for i in range(11)]) for _ in range(5)]
    summary = summarise_level(1, results, wall_seconds=5.0)
    assert summary.rule_of_thumb["ratio"] == pytest.approx(1.0)


def test_rule_of_thumb_is_absent_without_measurements():
    assert rule_of_thumb(None, None, None, None) is None


def test_zero_prediction_gives_an_infinite_ratio():
    check = rule_of_thumb({"p90": 0.0}, {"p90": 0.0}, {"p90": 1.0}, tokens=1)
    assert math.isinf(check["ratio"])


def test_gaps_between_chunks_of_one_read_are_counted_and_the_reads_lag_summarised():
    # Chunks 2 and 3 came in one read (one time): one of the three gaps is within a read.
    summary = summarise_level(1, [_result(0.0, [0.1, 0.2, 0.2, 0.3])], wall_seconds=1.0, read_lags=[0.001, 0.003])
    assert summary.same_read_gaps == pytest.approx(1 / 3)
    assert summary.client_read_lag["max"] == pytest.approx(0.003)
    assert summarise_level(1, [_result(0.0, [0.1])], wall_seconds=1.0).client_read_lag is None
