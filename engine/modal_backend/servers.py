"""ServerSpec -> an `@app.server` class that runs the engine's command and serves its port.

Why `@app.server` and not `@app.function` + `@modal.web_server`: a server is what Modal 1.6
designed for "an HTTP process that owns the container". It routes and autoscales on HTTP
concurrency (`target_concurrency` / `max_concurrency`, the knobs an inference engine needs) instead
of on function inputs; its `startup_timeout` covers the whole `@modal.enter`, so our own readiness
wait is the only one (web_server defaults to a 5 s wait that engines never meet); it has a
`routing_region`, an `exit_grace_period` for in-flight requests, and works with memory snapshots
through `@modal.enter(snap=True)` — which is how the low-latency pattern is written. The cost: no
`.remote()` calls and no retries, neither of which a long-running HTTP engine uses.

The class:
- `@modal.enter()` (no snapshot): launch `command` (+ secret arguments read from the environment),
  wait for GET `health_path` within `startup_timeout` (fail fast with the engine's last output if
  it exits), send the warm-up requests;
- with `snapshot`: the same in `@modal.enter(snap=True)`, then POST `sleep_path` so the snapshot
  holds a sleeping engine; `@modal.enter(snap=False)` POSTs `wake_path` in the restored container.
  The planner puts the engine's sleep-mode flag in `command`;
- with `cluster` (`@modal.clustered`): every container starts the engine with its rank and rank
  0's address filled into `rank_args`; only rank 0 serves HTTP, so only it waits for the health
  path and warms up (server_runtime.py);
- `@modal.exit()`: stop the engine's whole process tree: SIGTERM, a grace period, SIGKILL
  (`engine.runtime.supervisor`; docs/processes.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import modal

from engine.blueprint.model import ServerSpec
from engine.modal_backend.calls import building
from engine.modal_backend.containers import region_argument, shared_container_kwargs
from engine.modal_backend.resources import Resources

if TYPE_CHECKING:
    from engine.modal_backend.server_runtime import EngineLauncher


def make_server_class(spec: ServerSpec, module_name: str) -> type:
    """A plain class named `spec.symbol` with the enter/exit methods Modal looks for."""

    def _launcher(self: Any) -> EngineLauncher:
        launcher = getattr(self, "_mdeploy_launcher", None)
        if launcher is None:
            # Imported here, in the server's own container: every other container of the app
            # rebuilds this class too and never needs the runtime (urllib, subprocess handling).
            from engine.modal_backend.server_runtime import EngineLauncher

            launcher = self._mdeploy_launcher = EngineLauncher(spec)
        return launcher

    def stop(self: Any) -> None:
        _launcher(self).stop()

    def start(self: Any) -> None:
        _launcher(self).start(cluster_member() if spec.cluster is not None else None)

    def start_and_sleep(self: Any) -> None:
        launcher = _launcher(self)
        launcher.start()
        launcher.sleep()

    def wake(self: Any) -> None:
        _launcher(self).wake()

    if spec.snapshot is None:
        lifecycle = {"start": (start, modal.enter()), "stop": (stop, modal.exit())}
    else:
        lifecycle = {
            "start_and_sleep": (start_and_sleep, modal.enter(snap=True)),
            "wake": (wake, modal.enter(snap=False)),
            "stop": (stop, modal.exit()),
        }
    methods: dict[str, Any] = {}
    for name, (method, decorator) in lifecycle.items():
        method.__name__ = name
        method.__qualname__ = f"{spec.symbol}.{name}"
        method.__module__ = module_name
        methods[name] = decorator(method)
    namespace = {
        **methods,
        "__module__": module_name,
        "__qualname__": spec.symbol,
        "__doc__": (
            f"mdeploy server {spec.key!r}: {spec.command[0]} on port {spec.port}"
            if spec.kind == "server"
            else f"mdeploy server {spec.key!r}: {spec.engine} serving {spec.served_model_name}"
        ),
    }
    return type(spec.symbol, (), namespace)


def add_server(
    app: modal.App,
    spec: ServerSpec,
    module_name: str,
    images: dict[str, modal.Image],
    resources: Resources,
    env_values: Mapping[str, str] | None = None,
) -> modal.Server:
    if spec.snapshot is not None and not spec.container.enable_memory_snapshot:
        raise ValueError(f"server {spec.key!r}: a snapshot needs container.enable_memory_snapshot")
    at = ("servers", spec.key)
    with building(at, "server class"):
        user_cls: Any = make_server_class(spec, module_name)
    kwargs = server_kwargs(spec, images, resources, env_values)
    if spec.cluster is not None:
        # Below app.server, as Modal requires: it reads the cluster size and RDMA from the
        # decorated class and turns on i6pn, the network the nodes reach each other on.
        with building(at, "modal.clustered"):
            user_cls = modal.clustered(size=spec.cluster.nodes, rdma=spec.cluster.rdma)(user_cls)
    with building(at, "app.server"):
        return app.server(**kwargs)(user_cls)


def cluster_member() -> tuple[int, str]:
    """(this container's rank, rank 0's address), from the cluster context Modal sets up before
    `@modal.enter` runs (no network call). IPv4 when Modal reports it: the engines' HOST:PORT
    arguments (SGLang's rendezvous address) do not all read an IPv6 address."""
    import modal.experimental  # only clustered servers' containers need it

    info = modal.experimental.get_cluster_info()
    addresses = info.container_ipv4_ips or info.container_ips
    return info.rank, addresses[0]


def server_kwargs(
    spec: ServerSpec,
    images: dict[str, modal.Image],
    resources: Resources,
    env_values: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    # app.server has no `timeout` (a server has no inputs to time out) and no retries.
    kwargs = shared_container_kwargs(spec.container, images, resources, env_values)
    kwargs.update(
        name=spec.name,
        port=spec.port,
        startup_timeout=spec.startup_timeout,
        target_concurrency=spec.target_concurrency,
        max_concurrency=spec.max_concurrency,
        unauthenticated=not spec.requires_proxy_auth,
        exit_grace_period=spec.exit_grace_period,
        h2_enabled=spec.h2_enabled,
        compute_region=region_argument(spec.container.region),
    )
    if spec.container.scaling.scaleup_window is not None:
        kwargs["scaleup_window"] = spec.container.scaling.scaleup_window
    if spec.routing_region is not None:
        kwargs["routing_region"] = spec.routing_region
    return kwargs
