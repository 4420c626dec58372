"""Cost estimate rules: idle = min_containers, peak = max_containers, GPU count, fallbacks, unpriced;
CPU and memory requests priced too, region and non-preemptible multipliers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import engine.plan
from engine.blueprint.model import Blueprint, ContainerSpec, FunctionSpec, ScalingSpec
from engine.gpus import GPU_ALIASES, GPUS
from engine.plan.cost import estimate_cost, format_money, load_price_table, parse_gpu_request, with_prices


def _function(key: str, gpu: tuple[str, ...], min_c: int = 0, max_c: int | None = None, **container) -> FunctionSpec:
    spec = ContainerSpec(
        image="base", gpu=gpu, scaling=ScalingSpec(min_containers=min_c, max_containers=max_c), **container
    )
    return FunctionSpec(key=key, symbol=key, name=key, handler="m:f", container=spec)


def _blueprint(*functions: FunctionSpec) -> Blueprint:
    return Blueprint(app="a", environment="main", source="a.yaml", functions=functions)


def _hourly(gpu_type: str) -> float:
    return load_price_table().gpu_price_per_second(gpu_type) * 3600


# Modal's default request (0.125 cores, 128 MiB), priced per hour: every container pays it.
DEFAULT_CPU_MEMORY = (0.125 * 0.0000131 + 128 / 1024 * 0.00000222) * 3600


def test_price_table_names_its_source_and_date():
    data = json.loads((Path(engine.plan.__file__).parent / "prices.json").read_text())
    assert data["source_url"] == "https://modal.com/pricing"
    assert data["as_of"] == "2026-07-01"
    assert data["region_multipliers"]["source_url"].startswith("https://modal.com/docs/")


def test_cpu_and_memory_are_priced_per_core_and_per_gib():
    table = load_price_table()
    assert (table.cpu_core, table.memory_gib) == (0.0000131, 0.00000222)


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


def test_idle_cost_is_min_containers_times_the_container_price():
    cost = estimate_cost(_blueprint(_function("f", ("H100:2",), min_c=3, max_c=5)))
    assert cost.objects[0].idle_per_hour == pytest.approx(3 * (2 * _hourly("H100") + DEFAULT_CPU_MEMORY), abs=1e-3)


def test_peak_cost_is_max_containers_times_the_container_price():
    cost = estimate_cost(_blueprint(_function("f", ("L4:4",), min_c=0, max_c=7)))
    assert cost.objects[0].peak_per_hour == pytest.approx(7 * (4 * _hourly("L4") + DEFAULT_CPU_MEMORY), abs=1e-3)


def test_cpu_and_memory_requests_are_priced():
    cost = estimate_cost(_blueprint(_function("f", (), min_c=1, max_c=1, cpu=4.0, memory=16384)))
    (obj,) = cost.objects
    assert obj.breakdown.gpu == 0.0
    assert obj.breakdown.cpu == pytest.approx(4 * 0.0000131 * 3600, abs=1e-4)
    assert obj.breakdown.memory == pytest.approx(16 * 0.00000222 * 3600, abs=1e-4)
    assert obj.idle_per_hour == pytest.approx(obj.breakdown.cpu + obj.breakdown.memory, abs=1e-4)


def test_an_ephemeral_disk_raises_the_memory_request_at_twenty_to_one():
    cost = estimate_cost(_blueprint(_function("f", (), min_c=1, max_c=1, memory=1024, ephemeral_disk=512 * 1024)))
    assert cost.objects[0].breakdown.memory == pytest.approx(512 / 20 * 0.00000222 * 3600, abs=1e-4)


@pytest.mark.parametrize("regions,multiplier", [(("us",), 1.5), (("us-west",), 1.75), (("us-east", "eu"), 1.5)])
def test_a_container_region_multiplies_the_whole_container(regions, multiplier):
    plain = estimate_cost(_blueprint(_function("f", ("T4",), min_c=1, max_c=1))).objects[0]
    placed = estimate_cost(_blueprint(_function("f", ("T4",), min_c=1, max_c=1, region=regions))).objects[0]
    assert placed.breakdown.gpu == pytest.approx(plain.breakdown.gpu * multiplier, abs=1e-4)
    assert placed.per_container == pytest.approx(plain.per_container * multiplier, abs=1e-3)
    assert f"x{multiplier:g}" in " ".join(placed.notes)


def test_non_preemptible_triples_cpu_and_memory_only():
    plain = estimate_cost(_blueprint(_function("f", (), min_c=1, max_c=1, cpu=2.0))).objects[0]
    pinned = estimate_cost(_blueprint(_function("f", (), min_c=1, max_c=1, cpu=2.0, nonpreemptible=True))).objects[0]
    assert pinned.breakdown.cpu == pytest.approx(3 * plain.breakdown.cpu, abs=1e-4)
    assert pinned.breakdown.memory == pytest.approx(3 * plain.breakdown.memory, abs=1e-4)


def test_unbounded_max_containers_makes_peak_unbounded():
    cost = estimate_cost(_blueprint(_function("f", ("T4",), max_c=None)))
    assert cost.objects[0].peak_unbounded
    assert cost.peak_unbounded
    assert format_money(cost.peak_per_hour, unbounded=cost.peak_unbounded) == "unbounded"


def test_cpu_only_object_costs_its_cpu_and_memory_and_is_unbounded_without_a_limit():
    cost = estimate_cost(_blueprint(_function("f", (), min_c=2, max_c=None)))
    assert cost.objects[0].idle_per_hour == pytest.approx(2 * DEFAULT_CPU_MEMORY, abs=1e-4)
    assert cost.peak_unbounded


def test_fallback_list_is_priced_by_its_first_entry_and_says_so():
    cost = estimate_cost(_blueprint(_function("f", ("H100", "A100-80GB"), min_c=1, max_c=1)))
    obj = cost.objects[0]
    assert obj.priced_gpu == "H100"
    assert obj.idle_per_hour == pytest.approx(_hourly("H100") + DEFAULT_CPU_MEMORY, abs=1e-3)
    assert any("fallback" in note and "H100" in note for note in obj.notes)


def test_totals_sum_every_object():
    cost = estimate_cost(
        _blueprint(_function("a", ("H100",), min_c=1, max_c=2), _function("b", ("L4",), min_c=2, max_c=3))
    )
    h100, l4 = _hourly("H100") + DEFAULT_CPU_MEMORY, _hourly("L4") + DEFAULT_CPU_MEMORY
    assert cost.idle_per_hour == pytest.approx(h100 + 2 * l4, abs=1e-3)
    assert cost.peak_per_hour == pytest.approx(2 * h100 + 3 * l4, abs=1e-3)


def test_gpu_without_a_price_is_reported_unpriced_not_guessed():
    table = load_price_table()
    without_b300 = with_prices(table, gpu={k: v for k, v in table.gpu.items() if k != "B300"})
    cost = estimate_cost(
        _blueprint(_function("a", ("B300",), min_c=1, max_c=2), _function("b", ("L4",), min_c=1)), without_b300
    )
    unpriced = cost.objects[0]
    assert unpriced.idle_per_hour is None and unpriced.peak_per_hour is None
    assert cost.unpriced == ("function a (B300)",)
    assert cost.idle_per_hour == pytest.approx(_hourly("L4") + DEFAULT_CPU_MEMORY, abs=1e-3)


def test_servers_are_priced_like_functions(blueprint):
    server = blueprint.servers[0]
    cost = estimate_cost(dataclasses.replace(blueprint, functions=()))
    (obj,) = cost.objects
    assert (obj.kind, obj.key) == ("server", server.key)
    _, count = parse_gpu_request(server.container.gpu[0])
    assert obj.breakdown.gpu == pytest.approx(count * _hourly("H100"), abs=1e-3)
    assert obj.idle_per_hour == pytest.approx(server.container.scaling.min_containers * obj.per_container, abs=1e-3)


def test_money_below_a_cent_keeps_four_decimals():
    assert format_money(0.0042) == "$0.0042/h"
    assert format_money(12.5) == "$12.50/h"
    assert format_money(None) == "unpriced"


def test_plain_a100_is_priced_as_the_40gb_card_and_says_so():
    cost = estimate_cost(_blueprint(_function("f", ("A100",), min_c=1, max_c=1)))
    obj = cost.objects[0]
    assert obj.idle_per_hour == pytest.approx(_hourly("A100-40GB") + DEFAULT_CPU_MEMORY, abs=1e-3)
    assert "A100 priced as A100-40GB" in obj.notes


@pytest.mark.parametrize("gpu", sorted({*GPUS, *GPU_ALIASES}))
def test_every_gpu_the_manifest_accepts_has_a_price(gpu):
    price = load_price_table().gpu_price_per_second(gpu)
    assert price is not None and price > 0


def test_b200_plus_is_priced_as_the_dearer_b300_and_says_so():
    obj = estimate_cost(_blueprint(_function("f", ("B200+:2",), min_c=1, max_c=1))).objects[0]
    assert obj.breakdown.gpu == pytest.approx(2 * _hourly("B300"), abs=1e-3)
    assert _hourly("B300") > _hourly("B200")
    assert "B200+ priced as B300" in obj.notes
