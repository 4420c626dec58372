"""What the ejected file's code does when Modal runs it, compared with engine/entry.py's objects.

Reading decorator arguments back (test_eject_matches_entry.py) cannot see a function body or a
server's command: these tests call them. A handler may be `async def`, and the ejected function
must return its result, as the entry module's wrapper does; an ejected server's launch command
must follow the constants at the top of the file, which a reader is invited to edit.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
import types

import pytest
from modal._utils.async_utils import synchronizer

from engine.blueprint.model import ContainerSpec, FunctionSpec, ImageSpec, ImageStep, ScheduleSpec, WebSpec
from engine.eject.render import render_app
from engine.modal_backend.functions import make_wrapper
from engine.planner.plan import plan_file

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

HANDLERS = """
import threading

async def async_double(x=21):
    return 2 * x

def sync_double(x=21):
    return 2 * x

async def async_report():
    return "async ran"

def sync_report():
    return "sync ran"

def where():
    return threading.current_thread().name
"""


@pytest.fixture
def handler_package(tmp_path, monkeypatch):
    package = tmp_path / "handlers_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text(textwrap.dedent(HANDLERS))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "handlers_pkg"
    for name in [m for m in sys.modules if m.startswith("handlers_pkg")]:
        del sys.modules[name]


def _blueprint(functions):
    from engine.blueprint.model import Blueprint

    image = ImageSpec("base", "debian_slim", "3.12", steps=(ImageStep("add_local_python_source", ("engine",)),))
    return Blueprint(app="runs", environment="main", source="runs.yaml", images=(image,), functions=tuple(functions))


def _function(key, handler, **fields):
    return FunctionSpec(key=key, symbol=key, name=key, handler=handler, container=ContainerSpec(image="base"), **fields)


CASES = [
    ("plain_async", "handlers_pkg.jobs:async_double", {}, (5,), 10),
    ("plain_sync", "handlers_pkg.jobs:sync_double", {}, (5,), 10),
    (
        "nightly_async",
        "handlers_pkg.jobs:async_report",
        {"schedule": ScheduleSpec("period", seconds=60)},
        (),
        "async ran",
    ),
    ("nightly_sync", "handlers_pkg.jobs:sync_report", {"schedule": ScheduleSpec("period", seconds=60)}, (), "sync ran"),
    ("hook_async", "handlers_pkg.jobs:async_double", {"web": WebSpec("fastapi_endpoint", method="GET")}, (4,), 8),
    ("hook_sync", "handlers_pkg.jobs:sync_double", {"web": WebSpec("fastapi_endpoint", method="GET")}, (4,), 8),
]


def _raw(obj):
    """The Python function Modal wraps: what the container calls for an input."""
    inner = synchronizer._translate_in(obj)
    return inner._raw_f if hasattr(inner, "_raw_f") else inner.raw_f


def _call(function, args):
    result = function(*args)
    return asyncio.run(result) if asyncio.iscoroutine(result) and asyncio.iscoroutinefunction(function) else result


@pytest.mark.parametrize(("key", "handler", "fields", "args", "expected"), CASES, ids=[c[0] for c in CASES])
def test_ejected_function_returns_what_the_entry_wrapper_returns(
    handler_package, import_source, key, handler, fields, args, expected
):
    spec = _function(key, handler, **fields)
    ejected = import_source(render_app(_blueprint([spec])))
    ejected_raw = _raw(getattr(ejected, key))
    entry_raw, _ = make_wrapper(spec, "entry_under_test")
    assert _call(ejected_raw, args) == _call(entry_raw, args) == expected


def test_ejected_endpoint_runs_a_sync_handler_off_the_event_loop_thread(handler_package, import_source):
    spec = _function("whereabouts", "handlers_pkg.jobs:where", web=WebSpec("fastapi_endpoint", method="GET"))
    raw = _raw(import_source(render_app(_blueprint([spec]))).whereabouts)
    import threading

    assert asyncio.run(raw()) != threading.current_thread().name


def _start_command(server_obj, module) -> list[str]:
    """Run the ejected server class's start method with Popen and the health wait stubbed."""
    user_cls = synchronizer._translate_in(server_obj)._get_user_cls()
    captured = {}
    module.subprocess = types.SimpleNamespace(Popen=lambda cmd: captured.setdefault("cmd", cmd))
    module.wait_until_healthy = lambda *args: None
    module.post = lambda *args: None
    _raw(user_cls.__dict__["start"])(user_cls())
    return captured["cmd"]


def test_ejected_trtllm_server_takes_its_tensor_parallel_size_from_n_gpu(tmp_path, import_source, repo_root):
    manifest = tmp_path / "trt4.toml"
    source = (repo_root / "manifests" / "trtllm.toml").read_text().replace('gpu = "H100"', 'gpu = "H100:4"')
    manifest.write_text(source)
    ejected = import_source(render_app(plan_file(manifest, None, environ={})))
    assert ejected.N_GPU == 4
    command = _start_command(ejected.LlamaTrt, ejected)
    assert command[command.index("--tp_size") + 1] == "4"
    ejected.N_GPU = 2  # what the file invites a reader to do
    command = _start_command(ejected.LlamaTrt, ejected)
    assert command[command.index("--tp_size") + 1] == "2"


@pytest.mark.parametrize("name", ["chat", "sglang-qwen", "llama-70b"])
def test_ejected_servers_of_other_engines_follow_n_gpu_and_port_too(import_source, repo_root, monkeypatch, name):
    monkeypatch.setenv("LLM_API_KEY", "not-a-real-key")  # sglang-qwen reads its API key at start
    ejected = import_source(render_app(plan_file(repo_root / "manifests" / f"{name}.yaml", None, environ={})))
    (server,) = [v for v in vars(ejected).values() if type(v).__name__ == "Server"]
    ejected.N_GPU, ejected.PORT = 7, 8123
    command = _start_command(server, ejected)
    tp_flag = next(f for f in ("--tensor-parallel-size", "--tp") if f in command)
    assert (command[command.index(tp_flag) + 1], command[command.index("--port") + 1]) == ("7", "8123")
