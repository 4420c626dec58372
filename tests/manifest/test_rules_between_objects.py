"""Rules between the objects of one manifest, each through `mdeploy validate`, located at the
key that causes the conflict and with the fix (manifests: tests/manifest/data/project/rules/,
read through the `rule_report` fixture).

The rules an engine adds (its caches, its variables, API keys) are in
tests/blueprint/test_planner_checks.py; handler modules in tests/project/.
"""

from __future__ import annotations


def test_one_modal_volume_under_two_keys_is_not_mounted_twice(rule_report):
    assert rule_report("volume_names_not_unique.yaml")["problems"] == [
        "11:11: functions.work.volumes[\"/b\"]: volume 'b' is the Modal volume 'shared', which 'a' already mounts at /a "
        "(Modal mounts a volume at one path per container: mount one of the two keys)"
    ]


def test_the_same_volume_key_is_not_mounted_twice(rule_report):
    assert rule_report("mount_same_volume_twice.yaml")["problems"] == [
        "10:18: functions.work.volumes[\"/mnt/data\"]: volume 'data' is already mounted at /data "
        "(Modal mounts a volume at one path per container)"
    ]


def test_web_labels_are_unique_in_an_app(rule_report):
    assert rule_report("web_label_not_unique.yaml")["problems"] == [
        "16:12: services.api.label: URL label 'items' is also the label of functions.a (give each web endpoint its own label)"
    ]


def test_a_web_label_cannot_take_another_endpoints_default_label(rule_report):
    assert rule_report("web_default_label_not_unique.yaml")["problems"] == [
        "16:12: services.api.label: URL label 'rules-items' is also the default URL label of functions.items "
        "(give each web endpoint its own label)"
    ]


def test_keys_that_become_one_name_are_refused(rule_report):
    assert rule_report("modal_name_not_unique.yaml")["problems"] == [
        "6:3: functions.work-a: function 'work-a' and function 'work_a' both become the Python name 'work_a' (rename one of them)"
    ]


def test_mdeploy_variables_are_reserved(rule_report):
    assert rule_report("env_overrides_mdeploy_variable.yaml")["problems"] == [
        "7:7: functions.work.env.MDEPLOY_APP: names starting with MDEPLOY_ are reserved for the variables mdeploy sets "
        "in every container (rename the variable; mdeploy sets MDEPLOY_APP to the app's name itself)"
    ]


def test_env_values_a_shell_would_expand_are_refused(rule_report):
    assert rule_report("env_value_not_expanded.yaml")["problems"] == [
        "7:13: functions.work.env.PATH: $PATH is not expanded: Modal sets environment variables as written, without a "
        "shell (write the whole value of PATH: its value in the image is not visible here)"
    ]


def test_gpu_fallbacks_have_one_count(rule_report):
    assert rule_report("gpu_fallback_counts_differ.yaml")["problems"] == [
        '8:10: services.llm.gpu: every GPU in a fallback list must have the same count (e.g. ["H100:2", "A100-80GB:2"])'
    ]


def test_a_schedule_that_can_never_fire_is_refused(rule_report):
    assert rule_report("schedule_never_fires.yaml")["problems"] == [
        "7:13: functions.nightly.schedule.cron: never fires: February has no day 30 (pick a day of month that exists in that month)"
    ]


def test_a_web_endpoint_cannot_run_on_a_schedule(rule_report):
    assert rule_report("schedule_on_web_function.yaml")["problems"] == [
        "12:7: functions.nightly.schedule: a web endpoint cannot run on a schedule (a scheduled run is a call without "
        "a request) (split it into two functions: one with `web`, one with `schedule`)"
    ]
