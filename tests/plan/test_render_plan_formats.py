"""Rendering rules of `render_plan`: what every format shows, and that it is deterministic."""

from __future__ import annotations

import dataclasses
import shlex

import pytest

from engine.blueprint import codec
from engine.plan.render_plan import render_plan


def test_json_plan_is_exactly_the_codec_json(blueprint):
    assert render_plan(blueprint, "json").rstrip("\n") == codec.to_json(blueprint)


def test_json_plan_round_trips_to_the_same_blueprint(blueprint):
    assert codec.from_json(render_plan(blueprint, "json")) == blueprint


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_rendering_is_deterministic(blueprint, fmt):
    assert render_plan(blueprint, fmt) == render_plan(codec.from_json(codec.to_json(blueprint)), fmt)


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_every_object_is_listed_by_key(blueprint, fmt):
    out = render_plan(blueprint, fmt)
    keys = [
        o.key
        for group in ("servers", "functions", "images", "volumes", "secrets", "dicts", "queues", "buckets")
        for o in getattr(blueprint, group)
    ]
    for key in keys:
        assert key in out, key


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_modal_names_of_named_objects_are_shown(blueprint, fmt):
    out = render_plan(blueprint, fmt)
    for name in ("huggingface-cache", "huggingface-secret", "pipeline-results", "acme-raw-data"):
        assert name in out


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_launch_command_is_the_shell_joined_argv(blueprint, fmt):
    server = blueprint.servers[0]
    assert shlex.join(server.command) in render_plan(blueprint, fmt)


def test_secret_launch_argument_shows_the_env_var_not_a_value(blueprint):
    out = render_plan(blueprint, "text")
    assert '--api-key "$API_KEY"' in out


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_gpu_and_scaling_of_each_object_are_shown(blueprint, fmt):
    out = render_plan(blueprint, fmt)
    assert "H100:2" in out
    assert "min 1, max 4, buffer 0, scaledown after 15m" in out
    assert "max unbounded" in out  # the embed function has no max_containers


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_schedules_are_shown(blueprint, fmt):
    out = render_plan(blueprint, fmt)
    assert 'cron "0 3 * * *" (Europe/Berlin)' in out
    assert "every 4h" in out


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_image_steps_are_listed_in_order(blueprint, fmt):
    out = render_plan(blueprint, fmt)
    first = out.index("uv_pip_install vllm==0.11.0")
    second = out.index("HF_XET_HIGH_PERFORMANCE=1")
    third = out.index("add_local_python_source engine")
    assert first < second < third


def test_text_plan_has_idle_and_peak_totals(blueprint):
    out = render_plan(blueprint, "text")
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    # The embed function has no max_containers and a GPU: the peak total is unbounded.
    assert "$8.34/h" in total and "unbounded" in total


def test_bounded_peak_total_is_a_sum(blueprint):
    bounded = dataclasses.replace(blueprint, functions=blueprint.functions[:1])
    out = render_plan(bounded, "text")
    total = next(line for line in out.splitlines() if line.strip().startswith("total"))
    assert "$34.63/h" in total  # 8 x (2 x H100 + the CPU and memory requests)


def test_fallback_gpu_list_says_which_entry_was_priced(blueprint):
    server = blueprint.servers[0]
    fallback = dataclasses.replace(server.container, gpu=("H100", "A100-80GB"))
    bp = dataclasses.replace(blueprint, servers=(dataclasses.replace(server, container=fallback),))
    out = render_plan(bp, "text")
    assert "H100, A100-80GB (fallback order)" in out
    assert "priced the preferred H100" in out


def test_plan_shows_secret_names_and_key_names_only(blueprint):
    out = render_plan(blueprint, "text")
    assert "huggingface-secret" in out and "HF_TOKEN" in out
    assert "names only" in out


def test_markdown_table_cells_escape_pipes(blueprint):
    server = blueprint.servers[0]
    piped = dataclasses.replace(server, command=("sh", "-c", "a | b"), secret_args=())
    out = render_plan(dataclasses.replace(blueprint, servers=(piped,)), "markdown")
    assert "a \\| b" in out


def test_unknown_format_is_rejected(blueprint):
    with pytest.raises(ValueError, match="unknown plan format"):
        render_plan(blueprint, "yaml")


def test_plan_of_an_empty_app_still_has_a_cost_total():
    from engine.blueprint.model import Blueprint

    out = render_plan(Blueprint(app="empty", environment="main", source="e.yaml"), "text")
    assert "app empty" in out and "total" in out


def _with_snapshot(blueprint, warmup):
    from engine.blueprint.model import SnapshotSpec, WarmupSpec

    server = dataclasses.replace(
        blueprint.servers[0],
        snapshot=SnapshotSpec("/sleep?level=1", "/wake_up"),
        warmup=WarmupSpec("/v1/chat/completions", "{}", 1) if warmup else None,
    )
    return dataclasses.replace(blueprint, servers=(server,))


def test_a_snapshot_warmup_says_it_runs_before_the_snapshot_and_can_be_turned_off(blueprint):
    out = render_plan(_with_snapshot(blueprint, warmup=True), "text")
    assert "1 × POST /v1/chat/completions, before the snapshot (warmup: false skips it)" in out


def test_a_snapshot_without_warmup_says_so(blueprint):
    assert "none: the snapshot holds an engine no request has warmed up" in render_plan(
        _with_snapshot(blueprint, warmup=False), "text"
    )


def test_a_buckets_secret_is_shown_on_its_mount_not_as_an_env_secret():
    from engine.planner.plan import plan_file

    out = render_plan(plan_file("manifests/pipeline.yaml", None, environ={}), "text")
    discover = out.split("  discover:")[1].split("  work:")[0]
    assert "/raw <- bucket raw (credentials: secret aws)" in discover
    assert "secrets" not in discover.replace("secret aws", "")


def test_a_class_parameters_default_is_shown_as_the_class_declares_it():
    """As Python the Modal class would write it: a bytes default is its text's UTF-8 bytes, so a
    non-ASCII one is a bytes literal with escapes (b'pépper' is not Python)."""
    import ast
    from pathlib import Path

    from engine.planner.plan import plan_file

    blueprint = plan_file(Path("tests/modal_backend/data/seam/seam-classes.yaml"), None, environ={})
    function = next(f for f in blueprint.functions if f.cls and f.cls.parameters)
    parameters = tuple(
        dataclasses.replace(p, default="pépper") if p.type == "bytes" else p for p in function.cls.parameters
    )
    cls = dataclasses.replace(function.cls, parameters=parameters)
    functions = tuple(dataclasses.replace(f, cls=cls) if f is function else f for f in blueprint.functions)
    out = render_plan(dataclasses.replace(blueprint, functions=functions), "text")
    (line,) = (line for line in out.splitlines() if "salt: bytes = " in line)
    shown = line.split("salt: bytes = ", 1)[1].split(",")[0].strip()
    assert ast.literal_eval(shown) == "pépper".encode()
    assert "model_name: str (required)" in out and "strict: bool = False" in out
