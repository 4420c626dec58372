"""The edges of the rules between objects (engine/manifest/models/relations.py and the model
rules beside them), on plain data: what each refuses, and what it lets through."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.models.cron import CronError, check_cron
from engine.manifest.validate import validate_data


def _fn(**fields) -> dict:
    return {"version": 1, "app": "app", "functions": {"work": {"handler": "jobs.tasks:run", **fields}}}


def _problems(data) -> list[tuple[str, str]]:
    with pytest.raises(ManifestError) as info:
        validate_data(data)
    return [(p.key, p.message) for p in info.value.problems]


@pytest.mark.parametrize("expression", ["0 0 31 2 *", "0 0 30,31 2 *", "0 0 31 4,6,9,11 *", "0 0 31 APR *"])
def test_dates_that_do_not_exist_never_fire(expression):
    with pytest.raises(CronError) as info:
        check_cron(expression)
    assert info.value.message.startswith("never fires:")


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 29 2 *",  # leap years
        "0 0 31 2 MON",  # a weekday too: cron fires on either, so Mondays in February
        "0 0 */10 2 *",  # days 1, 11, 21
        "0 0 31 1-12 *",
    ],
)
def test_dates_that_exist_sometimes_fire(expression):
    check_cron(expression)


def test_a_batched_function_cannot_run_on_a_schedule():
    data = _fn(batching={"max_batch_size": 4, "wait_ms": 10}, schedule={"every": "1h"})
    assert _problems(data) == [
        (
            "functions.work.schedule",
            "a batched function cannot run on a schedule (a scheduled run passes no inputs to batch)",
        )
    ]


@pytest.mark.parametrize(
    ("name", "value", "what"),
    [
        ("PATH", "$PATH:/opt/bin", "$PATH"),
        ("PYTHONPATH", "/app:$PYTHONPATH", "$PYTHONPATH"),
        ("DATA", "$HOME/data", "$HOME"),
        ("CACHE", "~/cache", "~"),
    ],
)
def test_values_only_a_shell_would_expand_are_refused(name, value, what):
    assert _problems(_fn(env={name: value})) == [
        (
            f"functions.work.env.{name}",
            f"{what} is not expanded: Modal sets environment variables as written, without a shell",
        )
    ]


@pytest.mark.parametrize("value", ["$time $level", "price in $", "${HOME}", "a~b", "/root/~x"])
def test_dollar_signs_that_are_not_shell_variables_pass(value):
    validate_data(_fn(env={"FORMAT": value}))


def test_reserved_variables_are_refused_in_defaults_and_images_too():
    data = _fn(image="base")
    data["defaults"] = {"env": {"MDEPLOY_BLUEPRINT": "x"}}
    data["images"] = {"base": {"env": {"MDEPLOY_MODE": "y"}}}
    assert [key for key, _ in _problems(data)] == ["defaults.env.MDEPLOY_BLUEPRINT", "images.base.env.MDEPLOY_MODE"]


def test_default_labels_collide_when_keys_differ_only_in_case():
    data = {
        "version": 1,
        "app": "app",
        "functions": {
            "Items": {"handler": "jobs:a", "web": {}},
            "items": {"handler": "jobs:b", "web": {}},
        },
    }
    assert (
        "functions.items",
        "its default URL label 'app-items' is also the default URL label of functions.Items",
    ) in _problems(data)


def test_one_volume_in_defaults_and_another_key_of_it_in_a_function_is_refused():
    data = _fn(volumes={"/b": "b"})
    data["defaults"] = {"volumes": {"/a": "a"}}
    data["volumes"] = {"a": {"name": "shared"}, "b": {"name": "shared"}}
    assert _problems(data) == [
        ('functions.work.volumes["/b"]', "volume 'b' is the Modal volume 'shared', which 'a' already mounts at /a")
    ]
