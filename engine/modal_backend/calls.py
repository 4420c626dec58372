"""Which Blueprint field feeds each argument the backend passes to Modal, and which call is running.

Modal's client checks many arguments as the objects are declared, before any RPC (`scaledown_window`
must be 2..3600, a batch holds at most 1000 inputs, a port is 1..65535, ...). Every call the backend
makes into Modal runs inside `building(at, call)`: `at` is the Blueprint path of the object being
built, `call` a key of ARGUMENT_FIELDS. An exception leaving the call carries the mark as
`exc.mdeploy_call` (and a note that `modal deploy` shows under the traceback); a warning issued
meanwhile can read `current_call()`. The offline check (offline_build.py) reads the mark and the
table to put Modal's words at the field, and the planner's origins record to put them at the
manifest key.

The table is the one place that says which field fed which argument: the builders pass the
arguments, this says where they came from, and tests/modal_backend/test_call_fields.py holds both
to each other (every keyword the builders pass has an entry; every entry names a real field).

Names in a call's table are the argument names, and the names Modal's own messages use for the
same value where they differ (`target_inputs` for a server's target concurrency). A message that
names none of them is put at the call's `whole` field: the object, or the part of it the call
builds.

Standard library only: this is on the container's import path.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the container imports this module, and not the origins record
    from engine.blueprint.origins import BlueprintPath

# Arguments of both `app.function` and `app.server` (containers.shared_container_kwargs): field
# paths relative to the function's or server's Blueprint path.
_CONTAINER_FIELDS: dict[str, BlueprintPath] = {
    "image": ("container", "image"),
    "gpu": ("container", "gpu"),
    "cpu": ("container", "cpu"),
    "memory": ("container", "memory"),
    "ephemeral_disk": ("container", "ephemeral_disk"),
    "secrets": ("container", "secrets"),
    "volumes": ("container", "mounts"),
    "min_containers": ("container", "scaling", "min_containers"),
    "max_containers": ("container", "scaling", "max_containers"),
    "buffer_containers": ("container", "scaling", "buffer_containers"),
    "scaledown_window": ("container", "scaling", "scaledown_window"),
    "cloud": ("container", "cloud"),
    "nonpreemptible": ("container", "nonpreemptible"),
    "enable_memory_snapshot": ("container", "enable_memory_snapshot"),
    "env": ("container", "env"),
    "experimental_options": ("container", "gpu_snapshot"),
    # Modal's messages about mounts name the kind, not the argument.
    "Volume": ("container", "mounts"),
    "GPU": ("container", "gpu"),
}

# call -> {"whole": field of the whole call, "fields": {argument or message name: field}}.
# Paths are relative to `at`, the Blueprint path building(...) was given.
ARGUMENT_FIELDS: dict[str, dict[str, Any]] = {
    # modal.App(name, tags=..., secrets=[the Blueprint secret]); at = () (the app itself).
    "App": {"whole": ("app",), "fields": {"name": ("app",), "tags": ("tags",), "tag": ("tags",)}},
    # modal.Image.debian_slim / from_registry (+ entrypoint([])); at = ("images", key).
    "Image": {
        "whole": (),
        "fields": {
            "python_version": ("python_version",),
            "add_python": ("python_version",),
            "Python": ("python_version",),
            "tag": ("registry_ref",),
            "entrypoint_commands": ("clear_entrypoint",),
        },
    },
    # one build step (pip_install, apt_install, env, workdir, ...); at = ("images", key, "steps", i).
    "Image step": {
        "whole": (),
        "fields": {
            "index_url": ("index_url",),
            "extra_index_url": ("extra_index_url",),
            "ENV": ("env",),
            "vars": ("env",),
            "path": ("args",),
            "find_links": ("find_links",),
            "pre": ("pre",),
            "remote_path": ("args",),
            "local_path": ("args",),
            "copy": ("copy",),
            "ignore": ("ignore",),
            "gpu": ("gpu",),
            "secrets": ("secrets",),
            "timeout": ("timeout",),
        },
    },
    "Volume.from_name": {
        "whole": ("name",),
        "fields": {"name": ("name",), "create_if_missing": ("create_if_missing",)},
    },
    "Secret.from_name": {"whole": ("name",), "fields": {"name": ("name",), "required_keys": ("required_keys",)}},
    "CloudBucketMount": {
        "whole": (),
        "fields": {
            "bucket_name": ("bucket_name",),
            "secret": ("secret",),
            "read_only": ("read_only",),
            "key_prefix": ("key_prefix",),
            "bucket_endpoint_url": ("bucket_endpoint_url",),
            "requester_pays": ("requester_pays",),
            "Requester Pays": ("requester_pays",),
        },
    },
    "Dict.from_name": {"whole": ("name",), "fields": {"name": ("name",), "create_if_missing": ("create_if_missing",)}},
    "Queue.from_name": {"whole": ("name",), "fields": {"name": ("name",), "create_if_missing": ("create_if_missing",)}},
    # Web decorators (fastapi_endpoint, asgi_app, wsgi_app, web_server); at = ("functions", key).
    "web": {
        "whole": ("web",),
        "fields": {
            "label": ("web", "label"),
            "requires_proxy_auth": ("web", "requires_proxy_auth"),
            "method": ("web", "method"),
            "docs": ("web", "docs"),
            "port": ("web", "port"),
            "web_server": ("web", "port"),
            "startup_timeout": ("web", "startup_timeout"),
        },
    },
    "batched": {
        "whole": ("batching",),
        "fields": {"max_batch_size": ("batching", "max_batch_size"), "wait_ms": ("batching", "wait_ms")},
    },
    "concurrent": {
        "whole": ("concurrency",),
        "fields": {"max_inputs": ("concurrency", "max_inputs"), "target_inputs": ("concurrency", "target_inputs")},
    },
    "schedule": {
        "whole": ("schedule",),
        "fields": {
            "cron_string": ("schedule", "cron"),
            "timezone": ("schedule", "timezone"),
            "seconds": ("schedule", "seconds"),
        },
    },
    "retries": {
        "whole": ("retries",),
        "fields": {
            "max_retries": ("retries", "max_retries"),
            "retries number": ("retries", "max_retries"),
            "backoff_coefficient": ("retries", "backoff_coefficient"),
            "initial_delay": ("retries", "initial_delay"),
            "max_delay": ("retries", "max_delay"),
        },
    },
    # app.function(**functions.function_kwargs(...)); at = ("functions", key).
    "app.function": {
        "whole": (),
        "fields": {
            **_CONTAINER_FIELDS,
            "name": ("name",),
            "timeout": ("timeout",),
            "region": ("container", "region"),
            "schedule": ("schedule",),
            "retries": ("retries",),
            "Retries": ("retries",),
            "single_use_containers": ("max_inputs",),
            "target_inputs": ("concurrency", "target_inputs"),
            "batched": ("batching",),
        },
    },
    # app.cls(**classes.class_kwargs(...)), a `kind: cls` function; at = ("functions", key).
    "app.cls": {
        "whole": ("cls",),
        "fields": {
            **_CONTAINER_FIELDS,
            "timeout": ("timeout",),
            "startup_timeout": ("cls", "startup_timeout"),
            "region": ("container", "region"),
            "retries": ("retries",),
            "Retries": ("retries",),
            "routing_region": ("routing_region",),
            "single_use_containers": ("max_inputs",),
            "batched": ("cls", "batched"),
            "method": ("cls", "methods"),
            "methods": ("cls", "methods"),
        },
    },
    # @modal.method() / @modal.batched(...) on one method of a class; at = ("functions", key).
    "class method": {"whole": ("cls", "methods"), "fields": {}},
    "class batched": {
        "whole": ("cls", "batched"),
        "fields": {"max_batch_size": ("cls", "batched"), "wait_ms": ("cls", "batched")},
    },
    # make_server_class (the enter/exit methods); at = ("servers", key).
    "server class": {"whole": ("snapshot",), "fields": {"snap": ("snapshot",)}},
    # modal.clustered(size, rdma) under app.server; at = ("servers", key).
    "modal.clustered": {"whole": ("cluster",), "fields": {"size": ("cluster", "nodes"), "rdma": ("cluster", "rdma")}},
    # app.server(**servers.server_kwargs(...)); at = ("servers", key).
    "app.server": {
        "whole": (),
        "fields": {
            **_CONTAINER_FIELDS,
            "name": ("name",),
            "port": ("port",),
            "Port": ("port",),
            "startup_timeout": ("startup_timeout",),
            "target_concurrency": ("target_concurrency",),
            "target_inputs": ("target_concurrency",),
            "max_concurrency": ("max_concurrency",),
            "unauthenticated": ("requires_proxy_auth",),
            "exit_grace_period": ("exit_grace_period",),
            "compute_region": ("container", "region"),
            "routing_region": ("routing_region",),
            "h2_enabled": ("h2_enabled",),
            "snap": ("snapshot",),
        },
    },
}

_CURRENT: ContextVar[tuple[BlueprintPath, str] | None] = ContextVar("mdeploy_modal_call", default=None)


def current_call() -> tuple[BlueprintPath, str] | None:
    """(at, call) of the Modal call running now, or None outside the builders."""
    return _CURRENT.get()


class building:
    """`with building(("functions", "work"), "app.function"): ...` marks one call into Modal.

    A plain class, not @contextmanager: every container runs this a few times per object.
    """

    __slots__ = ("at", "call", "_token")

    def __init__(self, at: BlueprintPath, call: str):
        self.at = at
        self.call = call

    def __enter__(self) -> None:
        self._token = _CURRENT.set((self.at, self.call))

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        _CURRENT.reset(self._token)
        if exc is not None and getattr(exc, "mdeploy_call", None) is None:
            try:
                exc.mdeploy_call = (self.at, self.call)  # type: ignore[attr-defined]
                exc.add_note(f"mdeploy: raised while building {'.'.join(map(str, self.at)) or 'the app'} ({self.call})")
            except (AttributeError, TypeError):
                pass  # an exception type that takes no attributes keeps its own story
        return False
