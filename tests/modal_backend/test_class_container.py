"""`kind: cls` functions in Modal's container and at the call into Modal's client.

A fresh process with only MDEPLOY_BLUEPRINT imports the entry module by the name Modal recorded,
finds the class by its implementation name (`Symbol.*`), makes the instance, runs the enter hooks
in the manifest's order, calls the methods (the batched one with lists, mapped by the user's
signature) and runs the exit hooks; the user's module is imported only by the enter method.
What `app.cls` receives is read back from Modal's client objects.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from modal._partial_function import _PartialFunctionFlags
from modal._utils.async_utils import synchronizer
from modal_proto import api_pb2

from engine.blueprint.codec import ENV_VAR, encode_for_env
from engine.blueprint.model import (
    BatchedMethodSpec,
    Blueprint,
    ClassParameterSpec,
    ClassSpec,
    ConcurrencySpec,
    ContainerSpec,
    FunctionSpec,
    ImageSpec,
    ImageStep,
    RetrySpec,
    ScalingSpec,
)
from tests.modal_backend.introspect import build_into_module

REPO = Path(__file__).resolve().parents[2]
PLAYER = Path(__file__).with_name("play_class_container.py")

USER_MODULE = '''
"""A user's classes: plain Python, recording what was called on them."""

EVENTS = []


class Counter:
    def __init__(self):
        EVENTS.append("init")
        self.total = 0

    def load(self):
        EVENTS.append("load")
        self.total = 100

    async def warm(self):
        EVENTS.append("warm")

    def add(self, n, m=0):
        self.total += n + m
        return self.total

    async def twice(self, n):
        return 2 * n

    def close(self):
        EVENTS.append("close")

    def flush(self):
        EVENTS.append("flush")


class Tuned:
    """Made with the class parameters a caller bound; loads before a snapshot, warms after."""

    def __init__(self, model_name, top, strict, salt):
        EVENTS.append(f"init {model_name} {top} {strict} {salt!r}")
        self.top = top

    def load(self):
        EVENTS.append("load")

    def warm(self):
        EVENTS.append("warm")

    def best(self, n):
        return n * self.top

    def close(self):
        EVENTS.append("close")


class Batcher:
    def load(self):
        self.scale = 10

    def scale_all(self, xs: list[int]) -> list[int]:
        return [x * self.scale for x in xs]
'''

IMAGE = ImageSpec(
    key="default",
    base="debian_slim",
    python_version="3.12",
    steps=(ImageStep(op="add_local_python_source", args=("engine", "clsjobs")),),
)


def class_blueprint() -> Blueprint:
    container = ContainerSpec(image="default", gpu=("L4",), scaling=ScalingSpec(max_containers=3))
    counter = FunctionSpec(
        key="counter",
        symbol="Counter",
        name="Counter",
        handler="clsjobs.counter:Counter",
        container=container,
        timeout=120,
        retries=RetrySpec(max_retries=2),
        concurrency=ConcurrencySpec(max_inputs=4),
        routing_region="us-east",
        cls=ClassSpec(methods=("add", "twice"), enter=("load", "warm"), exit=("flush", "close"), startup_timeout=900),
    )
    batcher = FunctionSpec(
        key="batcher",
        symbol="Batcher",
        name="Batcher",
        handler="clsjobs.counter:Batcher",
        container=replace(container, gpu=()),
        cls=ClassSpec(enter=("load",), batched=(BatchedMethodSpec(name="scale_all", max_batch_size=8, wait_ms=25),)),
    )
    tuned = FunctionSpec(
        key="tuned",
        symbol="Tuned",
        name="Tuned",
        handler="clsjobs.counter:Tuned",
        container=replace(container, enable_memory_snapshot=True),
        cls=ClassSpec(
            methods=("best",),
            before_snapshot=("load",),
            enter=("warm",),
            exit=("close",),
            parameters=(
                ClassParameterSpec("model_name", "str"),
                ClassParameterSpec("top", "int", 3),
                ClassParameterSpec("strict", "bool", False),
                ClassParameterSpec("salt", "bytes", "pepper"),
            ),
        ),
    )
    return Blueprint(
        app="classes-test", environment="main", source="test", images=(IMAGE,), functions=(counter, batcher, tuned)
    )


def _container_root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "clsjobs").mkdir(parents=True)
    (root / "entry.py").write_text((REPO / "engine" / "entry.py").read_text())
    (root / "engine").symlink_to(REPO / "engine", target_is_directory=True)
    (root / "clsjobs" / "__init__.py").write_text("")
    (root / "clsjobs" / "counter.py").write_text(textwrap.dedent(USER_MODULE))
    return root


def _run_player(tmp_path: Path, blueprint: Blueprint, request: dict) -> subprocess.CompletedProcess[str]:
    root = _container_root(tmp_path)
    env = {ENV_VAR: encode_for_env(blueprint), "PYTHONPATH": str(root), "HOME": str(root)}
    payload = {"module_name": "entry", "events_module": "clsjobs.counter", **request}
    return subprocess.run(
        [sys.executable, "-B", str(PLAYER), json.dumps(payload)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _play(tmp_path: Path, blueprint: Blueprint, request: dict) -> dict:
    result = _run_player(tmp_path, blueprint, request)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def built():
    return build_into_module(class_blueprint(), "mdeploy_local_classes")


def _service_function(cls_obj):
    return synchronizer._translate_in(cls_obj)._get_class_service_function()


def _sent(cls_obj) -> dict:
    load = _service_function(cls_obj)._load
    return dict(zip(load.__code__.co_freevars, (c.cell_contents for c in load.__closure__)))


def test_container_finds_the_class_runs_enter_methods_and_exit_in_order(tmp_path, built):
    _app, module = built
    info = _sent(module.Counter)["info"]
    report = _play(
        tmp_path,
        class_blueprint(),
        {
            "implementation_name": info.implementation_name,
            "calls": {"add": [[1], [2, 3]], "twice": [[21]]},
            "batched": {},
        },
    )
    assert (
        info.implementation_name == "Counter.*" and info.module_name == "entry"
    )  # Modal names the module by its file, entry.py
    assert report["type"] == "Cls"
    assert report["imported_before_enter"] is False
    assert report["events"] == ["init", "load", "warm", "flush", "close"]
    assert report["results"] == {"add": [101, 106], "twice": [42]}
    method = int(_PartialFunctionFlags.CALLABLE_INTERFACE)
    assert report["partials"]["add"] & method and report["partials"]["twice"] & method
    assert report["partials"]["_mdeploy_enter"] & int(_PartialFunctionFlags.ENTER_POST_SNAPSHOT)
    assert report["partials"]["_mdeploy_exit"] & int(_PartialFunctionFlags.EXIT)
    local_deps = [repr(d) for d in _service_function(module.Counter)._deps(only_explicit_mounts=True)]
    assert report["deps"] == local_deps


def test_container_batches_by_the_user_methods_signature(tmp_path, built):
    report = _play(
        tmp_path,
        class_blueprint(),
        {"implementation_name": "Batcher.*", "calls": {}, "batched": {"scale_all": [[1], [2], [3]]}},
    )
    assert report["signatures"] == {"scale_all": "(xs: list[int]) -> list[int]"}
    assert report["results"] == {"scale_all": [10, 20, 30]}
    assert "_mdeploy_exit" not in report["partials"]  # no exit hooks: no exit method


def test_app_cls_receives_the_blueprint_values(built):
    _app, module = built
    blueprint = class_blueprint()
    counter, batcher, _tuned = blueprint.functions
    sent = _sent(module.Counter)
    assert sent["timeout"] == counter.timeout and sent["startup_timeout"] == 900
    assert sent["gpu"] == "L4" and sent["max_containers"] == 3
    assert sent["max_concurrent_inputs"] == 4
    assert sent["routing_region"] == "us-east"
    assert sent["retry_policy"].retries == 2
    assert sent["batch_max_size"] is None
    assert sorted(sent["method_definitions"]) == ["add", "twice"]
    batched = _sent(module.Batcher)
    assert (batched["batch_max_size"], batched["batch_wait_ms"]) == (8, 25)
    assert sorted(batched["method_definitions"]) == ["scale_all"]
    # No start-up timeout of its own: Modal's rule, the timeout bounds the enter hooks too.
    assert batched["startup_timeout"] == batcher.timeout
    assert module.Counter.__class__.__name__ == "Cls"


def test_container_hands_bound_parameters_to_the_class_and_enters_around_the_snapshot(tmp_path, built):
    """A caller's `Cls(model_name=..., strict=True)` goes through Modal's serialization to the
    user's constructor, with the defaults the schema carries for what the caller left out; the
    pre-snapshot enter method makes the instance and runs before_snapshot, the post-snapshot one
    runs enter."""
    report = _play(
        tmp_path,
        class_blueprint(),
        {
            "implementation_name": "Tuned.*",
            "parameters": {"model_name": "bge", "strict": True},
            "snapshot": True,
            "calls": {"best": [[2]]},
            "batched": {},
        },
    )
    assert report["parameter_schema"] == [
        ["model_name", api_pb2.PARAM_TYPE_STRING, False],
        ["top", api_pb2.PARAM_TYPE_INT, True],
        ["strict", api_pb2.PARAM_TYPE_BOOL, True],
        ["salt", api_pb2.PARAM_TYPE_BYTES, True],
    ]
    assert report["events"] == ["init bge 3 True b'pepper'", "load", "warm", "close"]
    assert report["results"] == {"best": [6]}
    assert report["partials"]["_mdeploy_before_snapshot"] & int(_PartialFunctionFlags.ENTER_PRE_SNAPSHOT)
    assert report["partials"]["_mdeploy_enter"] & int(_PartialFunctionFlags.ENTER_POST_SNAPSHOT)


def test_a_caller_without_a_required_parameter_is_refused_by_modal(tmp_path, built):
    """`model_name` has no default: Modal's own check refuses an instance without it, before the
    user's class is made (its signature is the parameters')."""
    request = {"implementation_name": "Tuned.*", "parameters": {"top": 5}, "snapshot": True}
    result = _run_player(tmp_path, class_blueprint(), {**request, "calls": {}, "batched": {}})
    assert result.returncode != 0
    assert "missing a required argument: 'model_name'" in result.stderr, result.stderr[-2000:]
