"""The deployed side of a drift: the baseline with what Modal reports laid over it, field by field."""

from __future__ import annotations

import dataclasses

from modal.types import FunctionAutoscalerSettings, ServerAutoscalerSettings

from engine.operate.drift import live_blueprint
from engine.operate.readback import parse_app_info, parse_object
from engine.plan.diff import diff_blueprints
from engine.planner.plan import plan_file
from tests.support import modal_replies as replies

CHAT = plan_file("manifests/chat.yaml", "prod")  # llama: H100, us-east, min 1, buffer 1, max 8, 15m


def _server(**fields):
    settings = fields.pop("autoscaler", None) or ServerAutoscalerSettings(
        target_concurrency=None,
        min_containers=1,
        max_containers=8,
        buffer_containers=1,
        scaleup_window=None,
        scaledown_window=900,
    )
    info = replies.server_info("chat", "llama", "fu-1", url="https://u", autoscaler=settings, **fields)
    return parse_object("server", "llama", info, replies.autoscaler_settings(settings))


def _live(*objects, servers=("llama",)):
    app = parse_app_info(replies.app_info("chat", servers={n: "fu-1" for n in servers}))
    return live_blueprint(CHAT, app, {(o.kind, o.name): o for o in objects})


def _changes(live):
    return [(o.key, o.status, [(f.path, f.old, f.new) for f in o.fields]) for o in diff_blueprints(live, CHAT).objects]


def test_what_modal_reports_as_planned_is_no_drift():
    assert _changes(_live(_server())) == []


def test_the_same_gpu_named_another_way_is_not_drift():
    a100 = dataclasses.replace(CHAT.servers[0].container, gpu=("A100",))
    planned = dataclasses.replace(CHAT, servers=(dataclasses.replace(CHAT.servers[0], container=a100),))
    app = parse_app_info(replies.app_info("chat", servers={"llama": "fu-1"}))
    live = live_blueprint(planned, app, {("server", "llama"): _server(gpus=[("A100-40GB", 1)])})
    assert diff_blueprints(live, planned).objects == ()


def test_gpus_resources_and_auth_are_read_back():
    live = _live(_server(gpus=[("H100", 2)], cpu=4.0, memory_mib=[16384, 32768], unauthenticated=True, port=9000))
    ((key, status, fields),) = _changes(live)
    assert (key, status) == ("llama", "changed")
    assert fields == [
        ("container.gpu", ["H100:2"], ["H100"]),
        ("container.cpu", 4.0, None),
        ("container.memory", 16384, None),
        ("port", 9000, 8000),
        ("requires_proxy_auth", False, True),
    ]


def test_unreported_autoscaler_settings_are_modals_defaults():
    settings = ServerAutoscalerSettings(
        target_concurrency=None,
        min_containers=None,
        max_containers=None,
        buffer_containers=None,
        scaleup_window=None,
        scaledown_window=None,
    )
    ((_, _, fields),) = _changes(_live(_server(autoscaler=settings)))
    assert ("container.scaling.min_containers", 0, 1) in fields and (
        "container.scaling.max_containers",
        None,
        8,
    ) in fields
    assert ("container.scaling.scaledown_window", 60, 900) in fields


def test_an_unset_target_concurrency_keeps_the_plans_since_modal_cannot_tell_unset_from_off():
    assert all(f[0] != "target_concurrency" for _, _, fields in _changes(_live(_server())) for f in fields)


def test_an_object_modal_does_not_have_is_added_by_the_plan():
    assert _changes(_live(servers=())) == [("llama", "added", [])]


def test_a_function_modal_has_and_the_plan_lacks_is_removed_by_it():
    extra = parse_object(
        "function",
        "old",
        replies.function_info("chat", "old", "fu-9", autoscaler=FunctionAutoscalerSettings(None, None, None, None)),
    )
    app = parse_app_info(replies.app_info("chat", servers={"llama": "fu-1"}, functions={"old": "fu-9"}))
    live = live_blueprint(CHAT, app, {("server", "llama"): _server(), ("function", "old"): extra})
    assert [(o.kind, o.key, o.status) for o in diff_blueprints(live, CHAT).objects] == [("function", "old", "removed")]


def test_http2_and_the_scale_up_window_are_read_back():
    settings = ServerAutoscalerSettings(
        target_concurrency=None,
        min_containers=1,
        max_containers=8,
        buffer_containers=1,
        scaleup_window=30,
        scaledown_window=900,
    )
    ((key, status, fields),) = _changes(_live(_server(autoscaler=settings, h2_enabled=True)))
    assert (key, status) == ("llama", "changed")
    assert fields == [("container.scaling.scaleup_window", 30, None), ("h2_enabled", True, False)]


def test_a_functions_routing_region_is_read_back():
    planned = plan_file("manifests/pipeline.yaml", None)
    spec = next(f for f in planned.functions if f.key == "discover")
    app = parse_app_info(replies.app_info(planned.app, functions={spec.name: "fu-5"}))
    live_objects = {}
    for function in planned.functions:
        info = replies.function_info(
            planned.app, function.name, "fu-5", autoscaler=FunctionAutoscalerSettings(None, None, None, None)
        )
        if function.key == "discover":
            info["routing_region"] = "eu-west"
        live_objects[("function", function.name)] = parse_object("function", function.name, info)
    live = live_blueprint(planned, app, live_objects)
    (found,) = [o for o in diff_blueprints(live, planned).objects if o.key == "discover"]
    assert ("routing_region", "eu-west", None) in [(f.path, f.old, f.new) for f in found.fields]
