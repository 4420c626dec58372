"""Run as a script: play a Modal container importing the entry module, print what it found (JSON).

Argument: JSON {"targets": [{"module_name", "implementation_name", "function_name", "is_server",
"is_class"}],
"signatures": [implementation names whose signature to report]}.

`modal.is_local()` is False exactly when a task lifecycle manager exists (a running Function), so
the script sets that singleton before importing anything of ours, then resolves every target with
the functions Modal's container entrypoint uses (`modal._runtime.user_code_imports`).
"""

from __future__ import annotations

import inspect
import json
import sys

from modal._runtime.task_lifecycle_manager import _TaskLifecycleManager

_TaskLifecycleManager._singleton = object()  # what makes modal.is_local() False in a container

import modal  # noqa: E402
from modal._runtime.user_code_imports import _get_cls_or_user_cls, import_single_function_service  # noqa: E402
from modal._utils.async_utils import synchronizer  # noqa: E402
from modal_proto import api_pb2  # noqa: E402


def main() -> None:
    request = json.loads(sys.argv[1])
    assert not modal.is_local()
    found = {}
    for target in request["targets"]:
        function_def = api_pb2.Function(
            module_name=target["module_name"],
            implementation_name=target["implementation_name"],
            function_name=target["function_name"],
            is_server=target["is_server"],
        )
        if target["is_server"]:
            server = synchronizer._translate_in(_get_cls_or_user_cls(function_def, None))
            deps = server._get_service_function()._deps(only_explicit_mounts=True)
            found[target["implementation_name"]] = {"type": type(server).__name__, "deps": [repr(d) for d in deps]}
        elif target.get("is_class"):
            # A `kind: cls` function (tests/modal_backend/test_class_container.py runs its methods).
            cls = synchronizer._translate_in(_get_cls_or_user_cls(function_def, None))
            deps = cls._get_class_service_function()._deps(only_explicit_mounts=True)
            found[target["implementation_name"]] = {"type": type(cls).__name__, "deps": [repr(d) for d in deps]}
        else:
            service = import_single_function_service(function_def, None)
            entry = {"type": "function", "deps": [repr(d) for d in service.service_deps]}
            if target["implementation_name"] in request["signatures"]:
                entry["signature"] = str(inspect.signature(service._user_defined_callable))
            found[target["implementation_name"]] = entry
    heavy = sorted(
        name
        for name in sys.modules
        if name.split(".")[0] in ("pydantic", "ruamel", "yaml", "tomllib")
        or name.startswith(
            ("engine.manifest", "engine.engines", "engine.cli", "engine.planner.plan", "engine.blueprint.origins")
        )
        # The engine's runtime is imported by a server's @modal.enter, never by the import itself.
        or name in ("engine.modal_backend.server_runtime", "engine.runtime.supervisor")
    )
    print(json.dumps({"found": found, "heavy_modules": heavy}))


main()
