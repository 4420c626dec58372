"""Each shorthand parser: the forms it accepts, and the teaching error for the forms it refuses."""

from __future__ import annotations

import pytest
from pydantic_core import PydanticCustomError

from engine.manifest.models.cron import CronError, check_cron, check_timezone
from engine.manifest.models.shorthands import (
    check_import_path,
    check_modal_name,
    check_mount_path,
    gpu_count,
    parse_duration,
    parse_gpu,
    parse_memory,
    python_identifier,
)


def _message(exc: PydanticCustomError) -> str:
    return f"{exc.context['message']} ({exc.context['hint']})"


@pytest.mark.parametrize(
    ("text", "seconds"), [(90, 90), ("30s", 30), ("10m", 600), ("4h", 14400), ("1d", 86400), ("1h30m", 5400)]
)
def test_duration_accepts_seconds_and_unit_strings(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10 minutes", "4x", "", "m"])
def test_duration_rejects_unknown_forms_listing_the_valid_ones(text):
    with pytest.raises(PydanticCustomError) as info:
        parse_duration(text)
    assert '"1h30m"' in _message(info.value)


def test_duration_rejects_a_boolean():
    with pytest.raises(PydanticCustomError):
        parse_duration(True)


@pytest.mark.parametrize(
    ("text", "mib"), [(512, 512), ("512MiB", 512), ("16GiB", 16384), ("1TiB", 1048576), ("1.5GiB", 1536)]
)
def test_memory_accepts_mib_and_binary_units(text, mib):
    assert parse_memory(text) == mib


def test_memory_refuses_decimal_units_suggesting_the_binary_one():
    with pytest.raises(PydanticCustomError) as info:
        parse_memory("16GB")
    assert '"16GiB"' in info.value.context["hint"]


@pytest.mark.parametrize(
    ("text", "spelled"),
    [
        ("h100", ("H100",)),
        ("a100-80gb:2", ("A100-80GB:2",)),
        ("A10G", ("A10",)),
        ("H100:1", ("H100",)),
        ("b200+", ("B200+",)),
    ],
)
def test_gpu_is_normalised_to_modal_spelling(text, spelled):
    assert parse_gpu(text) == spelled


def test_gpu_fallback_list_keeps_preference_order():
    assert parse_gpu(["H100:2", "a100-80gb:2"]) == ("H100:2", "A100-80GB:2")


def test_gpu_fallback_list_requires_one_count():
    with pytest.raises(PydanticCustomError) as info:
        parse_gpu(["H100:2", "A100"])
    assert "same count" in info.value.context["message"]


def test_gpu_unknown_type_suggests_the_closest():
    with pytest.raises(PydanticCustomError) as info:
        parse_gpu("H110")
    assert info.value.context["hint"] == "did you mean 'H100'?"


@pytest.mark.parametrize(("text", "count"), [("H100:0", 0), ("H100:9", 9), ("A10:5", 5)])
def test_gpu_count_out_of_range_is_refused(text, count):
    with pytest.raises(PydanticCustomError) as info:
        parse_gpu(text)
    assert f"(got {count})" in info.value.context["message"]


def test_gpu_any_is_refused():
    with pytest.raises(PydanticCustomError):
        parse_gpu("any")


def test_gpu_legacy_class_call_names_the_string_form():
    with pytest.raises(PydanticCustomError) as info:
        parse_gpu("modal.gpu.A100(count=2)")
    assert info.value.context["hint"] == 'write "A100:2"'


def test_gpu_mapping_form_names_the_string_form():
    with pytest.raises(PydanticCustomError) as info:
        parse_gpu({"type": "h100", "count": 4})
    assert info.value.context["hint"] == 'write "H100:4"'


def test_gpu_count_reads_the_count():
    assert (gpu_count("H100:8"), gpu_count("L4")) == (8, 1)


def test_import_path_needs_a_colon_and_suggests_it():
    assert check_import_path("pkg.mod:app") == "pkg.mod:app"
    with pytest.raises(PydanticCustomError) as info:
        check_import_path("pkg.mod.app")
    assert '"pkg.mod:app"' in info.value.context["hint"]


@pytest.mark.parametrize("name", ["chat", "hf-cache", "a.b_c", "x" * 64])
def test_modal_names_accept_modal_charset(name):
    assert check_modal_name(name) == name


@pytest.mark.parametrize("name", ["has space", "x" * 65, "ap-" + "a" * 22, "ünï"])
def test_modal_names_refuse_what_modal_refuses(name):
    with pytest.raises(PydanticCustomError):
        check_modal_name(name)


@pytest.mark.parametrize(
    ("name", "ident"), [("chat-api", "chat_api"), ("3d", "_3d"), ("class", "class_"), ("a.b", "a_b")]
)
def test_python_identifier_conversion(name, ident):
    assert python_identifier(name) == ident


@pytest.mark.parametrize("path", ["data", "/data/../etc", "/", "/root", "/tmp", "/data/", "//data"])
def test_mount_paths_must_be_canonical_absolute_and_allowed(path):
    with pytest.raises(PydanticCustomError):
        check_mount_path(path)


def test_mount_path_under_root_is_allowed():
    assert check_mount_path("/root/.cache/huggingface") == "/root/.cache/huggingface"


@pytest.mark.parametrize(
    "expr", ["0 3 * * *", "*/15 * * * *", "0 9-17/2 * * MON-FRI", "0 0 1,15 JAN,jul *", "5/10 * * * 7"]
)
def test_cron_accepts_five_field_forms(expr):
    check_cron(expr)


@pytest.mark.parametrize(
    ("expr", "fragment"),
    [
        ("0 3 * *", "5 fields"),
        ("60 * * * *", "minute 60 is out of range"),
        ("0 24 * * *", "hour 24"),
        ("0 0 0 * *", "day of month 0"),
        ("0 0 * 13 *", "month 13"),
        ("0 0 * * FUN", "day of week 'FUN'"),
        ("*/0 * * * *", "step cannot be 0"),
        ("0 5-1 * * *", "runs backwards"),
    ],
)
def test_cron_rejects_with_the_field_named(expr, fragment):
    with pytest.raises(CronError) as info:
        check_cron(expr)
    assert fragment in info.value.message


def test_cron_macro_is_refused_with_its_five_fields():
    with pytest.raises(CronError) as info:
        check_cron("@daily")
    assert info.value.hint == 'write "0 0 * * *"'


@pytest.mark.parametrize(
    ("expr", "shorthand"),
    [("5 minutes", "5m"), ("every 2 hours", "2h"), ("30 Seconds", "30s"), ("1 day", "1d"), ("15min", "15m")],
)
def test_an_interval_in_words_is_told_its_every_form(expr, shorthand):
    with pytest.raises(CronError) as info:
        check_cron(expr)
    assert info.value.message == f"{expr!r} is an interval in words, not a cron expression"
    assert info.value.hint == f"write it as {shorthand}: `every: {shorthand}` (units s, m, h, d)"


def test_init_schedule_in_words_is_told_the_interval_form(run_mdeploy, tmp_path):
    done = run_mdeploy(
        "init",
        "--kind",
        "function",
        "--handler",
        "jobs:run",
        "--schedule",
        "5 minutes",
        "--no-input",
        str(tmp_path / "jobs.yaml"),
    )
    assert done.returncode == 1 and not (tmp_path / "jobs.yaml").exists()
    assert "'5 minutes' is an interval in words, not a cron expression (write it as 5m" in done.stderr


def test_timezone_known_and_suggested():
    assert check_timezone("Europe/Berlin") is None
    assert check_timezone("Europe/Berln") == "Europe/Berlin"
