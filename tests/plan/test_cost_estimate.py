"""Cost estimate rules: idle = min_containers, peak = max_containers, GPU count, fallbacks, unpriced."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import engine.plan
from engine.blueprint.model import Blueprint, ContainerSpec, FunctionSpec, ScalingSpec
from engine.plan.cost import estimate_cost, format_money, load_price_table, parse_gpu_request


def _function(key: str, gpu: tuple[str, ...], min_c: int = 0, max_c: int | None = None) -> FunctionSpec:
    container = ContainerSpec(image="base", gpu=gpu, scaling=ScalingSpec(min_containers=min_c, max_containers=max_c))
    return FunctionSpec(key=key, symbol=key, name=key, handler="m:f", container=container)


def _blueprint(*functions: FunctionSpec) -> Blueprint:
    return Blueprint(app="a", environment="main", source="a.yaml", functions=functions)


def _hourly(gpu_type: str) -> float:
    return load_price_table().gpu_price_per_second(gpu_type) * 3600


def test_price_table_names_its_source_and_date():
    data = json.loads((Path(engine.plan.__file__).parent / "gpu_prices.json").read_text())
    assert data["source_url"].startswith("https://")
    assert data["as_of"]
    assert "000_4765a30f835936bb" in data["source"]


def test_price_table_matches_the_seed_guide_per_second_prices():
    table = load_price_table()
    assert table.gpu_price_per_second("H100") == 0.001097
    assert table.gpu_price_per_second("T4") == 0.000164
    assert table.gpu_price_per_second("A100-80GB") == 0.000694


def test_alias_a10g_is_priced_as_a10():
    table = load_price_table()
    assert table.gpu_price_per_second("A10G") == table.gpu_price_per_second("A10")


def test_gpu_request_count_is_parsed():
    assert parse_gpu_request("H100:2") == ("H100", 2)
    assert parse_gpu_request("L4") == ("L4", 1)
    assert parse_gpu_request("B200+") == ("B200+", 1)


def test_idle_cost_is_min_containers_times_gpu_price_times_count():
    cost = estimate_cost(_blueprint(_function("f", ("H100:2",), min_c=3, max_c=5)))
    assert cost.objects[0].idle_per_hour == pytest.approx(3 * 2 * _hourly("H100"), abs=1e-3)


def test_peak_cost_is_max_containers_times_gpu_price_times_count():
    cost = estimate_cost(_blueprint(_function("f", ("L4:4",), min_c=0, max_c=7)))
    assert cost.objects[0].peak_per_hour == pytest.approx(7 * 4 * _hourly("L4"), abs=1e-3)


def test_unbounded_max_containers_makes_peak_unbounded():
    cost = estimate_cost(_blueprint(_function("f", ("T4",), max_c=None)))
    assert cost.objects[0].peak_unbounded
    assert cost.peak_unbounded
    assert format_money(cost.peak_per_hour, unbounded=cost.peak_unbounded) == "unbounded"


def test_cpu_only_object_costs_nothing_even_when_unbounded():
    cost = estimate_cost(_blueprint(_function("f", (), min_c=2, max_c=None)))
    assert cost.objects[0].idle_per_hour == 0.0
    assert not cost.peak_unbounded
    assert cost.peak_per_hour == 0.0


def test_fallback_list_is_priced_by_its_first_entry_and_says_so():
    cost = estimate_cost(_blueprint(_function("f", ("H100", "A100-80GB"), min_c=1, max_c=1)))
    obj = cost.objects[0]
    assert obj.priced_gpu == "H100"
    assert obj.idle_per_hour == pytest.approx(_hourly("H100"), abs=1e-3)
    assert any("fallback" in note and "H100" in note for note in obj.notes)


def test_totals_sum_every_object():
    cost = estimate_cost(
        _blueprint(_function("a", ("H100",), min_c=1, max_c=2), _function("b", ("L4",), min_c=2, max_c=3))
    )
    assert cost.idle_per_hour == pytest.approx(_hourly("H100") + 2 * _hourly("L4"), abs=1e-3)
    assert cost.peak_per_hour == pytest.approx(2 * _hourly("H100") + 3 * _hourly("L4"), abs=1e-3)


def test_gpu_without_a_price_is_reported_unpriced_not_guessed():
    cost = estimate_cost(_blueprint(_function("a", ("H200",), min_c=1, max_c=2), _function("b", ("L4",), min_c=1)))
    unpriced = cost.objects[0]
    assert unpriced.idle_per_hour is None and unpriced.peak_per_hour is None
    assert cost.unpriced == ("function a (H200)",)
    assert cost.idle_per_hour == pytest.approx(_hourly("L4"), abs=1e-3)


def test_servers_are_priced_like_functions(blueprint):
    server = blueprint.servers[0]
    cost = estimate_cost(dataclasses.replace(blueprint, functions=()))
    (obj,) = cost.objects
    assert (obj.kind, obj.key) == ("server", server.key)
    _, count = parse_gpu_request(server.container.gpu[0])
    assert obj.idle_per_hour == pytest.approx(server.container.scaling.min_containers * count * _hourly("H100"), abs=1e-3)


def test_money_below_a_cent_keeps_four_decimals():
    assert format_money(0.0042) == "$0.0042/h"
    assert format_money(12.5) == "$12.50/h"
    assert format_money(None) == "unpriced"


def test_plain_a100_is_priced_as_the_40gb_card_and_says_so():
    cost = estimate_cost(_blueprint(_function("f", ("A100",), min_c=1, max_c=1)))
    obj = cost.objects[0]
    assert obj.idle_per_hour == pytest.approx(_hourly("A100-40GB"), abs=1e-3)
    assert "A100 priced as A100-40GB" in obj.notes
