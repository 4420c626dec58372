import random

import pytest

from engine.bench.workload import (
    Length,
    arrival_offsets,
    parse_goodput,
    parse_length,
    parse_rates,
    plan_requests,
    read_dataset,
)
from engine.errors import UserError


def test_lengths_are_fixed_or_uniform_ranges():
    assert parse_length("--max-tokens", "64") == Length(64, 64)
    assert parse_length("--max-tokens", "16:32") == Length(16, 32)


@pytest.mark.parametrize("text", ["0", "32:16", "a", "1:b", "-3"])
def test_bad_lengths_are_refused_with_the_form(text):
    with pytest.raises(UserError, match="--max-tokens"):
        parse_length("--max-tokens", text)


def test_uniform_lengths_stay_in_range_and_repeat_with_the_seed():
    def draw(seed):
        rng = random.Random(seed)
        return [Length(16, 32).draw(rng) for _ in range(200)]

    values = draw(7)
    assert min(values) >= 16 and max(values) <= 32 and len(set(values)) > 5
    assert draw(7) == values


def test_rates_parse_as_requests_per_second():
    assert [level.rate for level in parse_rates("0.5, 2")] == [0.5, 2.0]
    with pytest.raises(UserError, match="--rate"):
        parse_rates("0")
    with pytest.raises(UserError, match="--rate"):
        parse_rates("inf")


def test_constant_arrivals_are_evenly_spaced():
    assert arrival_offsets(4, 2.0, "constant", random.Random(0)) == [0.0, 0.5, 1.0, 1.5]


def test_poisson_arrivals_have_the_rate_on_average_and_a_seed():
    offsets = arrival_offsets(4001, 10.0, "poisson", random.Random(3))
    gaps = [b - a for a, b in zip(offsets, offsets[1:])]
    assert sum(gaps) / len(gaps) == pytest.approx(0.1, rel=0.1)
    assert len(set(round(g, 4) for g in gaps)) > 100  # not evenly spaced
    assert offsets == arrival_offsets(4001, 10.0, "poisson", random.Random(3))


def test_goodput_targets_parse_with_units():
    assert parse_goodput("ttft:500ms,itl:50ms,e2el:2s") == {"ttft": 0.5, "itl": 0.05, "e2e": 2.0}
    with pytest.raises(UserError, match="METRIC:TIME"):
        parse_goodput("latency:1s")
    with pytest.raises(UserError, match="unit"):
        parse_goodput("ttft:500")


def test_synthetic_prompts_have_the_drawn_number_of_words():
    plans = plan_requests(20, max_tokens=Length(8, 8), prompt_len=Length(3, 9), rng=random.Random(1))
    assert all(3 <= len(plan.prompt.split()) <= 9 for plan in plans)
    assert {plan.max_tokens for plan in plans} == {8}


def test_a_dataset_gives_prompts_and_lengths_in_order_cycled(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "Hello", "max_tokens": 3}\n\n{"prompt_len": 4}\n')
    plans = plan_requests(3, max_tokens=Length(9, 9), dataset=read_dataset(str(path)), rng=random.Random(0))
    assert [(p.prompt, p.max_tokens) for p in plans][0::2] == [("Hello", 3), ("Hello", 3)]
    assert len(plans[1].prompt.split()) == 4 and plans[1].max_tokens == 9


def test_a_bad_dataset_line_is_located(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text('{"prompt": "ok"}\n{"max_tokens": 3}\n')
    with pytest.raises(UserError, match=r"d.jsonl:2: each line needs"):
        read_dataset(str(path))
