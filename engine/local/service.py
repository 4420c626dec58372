"""Serve one service of a Blueprint on this machine: pick it, launch it, wait until it is ready.

`prepare_launch` is pure apart from reading `.env`; `check_before_start` checks what can be
checked before an engine starts (its port, its model); `running_service` is the context manager
that owns the engine process — on leaving it, for any reason (Ctrl-C, SIGTERM, an error, the end
of a benchmark), the engine's whole process tree is stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from engine.blueprint.model import Blueprint, FunctionSpec, ServerSpec
from engine.errors import UserError
from engine.local.dotenv import read_dotenv
from engine.local.launch import Launch, machine_has_gpu, server_launch, web_launch
from engine.local.model_source import check_model_available
from engine.local.mounts import create_mount_folders
from engine.local.ports import ensure_port_free
from engine.local.process import start_engine, wait_until_ready, warm_up_here
from engine.runtime.supervisor import Supervisor


def service_names(blueprint: Blueprint) -> list[str]:
    return [s.key for s in blueprint.servers] + [f.key for f in blueprint.functions if f.web is not None]


def find_service(blueprint: Blueprint, name: str | None) -> ServerSpec | FunctionSpec:
    """The service called `name` (a server or a web function); the only one when `name` is None."""
    names = service_names(blueprint)
    if name is None:
        if len(names) == 1:
            name = names[0]
        elif not names:
            raise UserError(f"{blueprint.source} defines no service to serve")
        else:
            raise UserError(f"{blueprint.source} defines several services ({', '.join(names)}): name one")
    for server in blueprint.servers:
        if server.key == name:
            return server
    for function in blueprint.functions:
        if function.key == name:
            if function.web is None:
                raise UserError(f"{name!r} is a function without a web endpoint: call it with `mdeploy run`")
            return function
    available = ", ".join(names) or "none"
    raise UserError(f"{blueprint.source} has no service {name!r} (services: {available})")


def prepare_launch(
    blueprint: Blueprint,
    name: str | None,
    *,
    workdir: Path,
    environ: Mapping[str, str],
    dotenv_path: Path,
    host: str = "127.0.0.1",
    port: int | None = None,
    has_gpu: bool | None = None,
) -> Launch:
    service = find_service(blueprint, name)
    dotenv = read_dotenv(dotenv_path)
    if isinstance(service, ServerSpec):
        gpu = machine_has_gpu() if has_gpu is None else has_gpu
        return server_launch(
            blueprint, service, has_gpu=gpu, workdir=workdir, environ=environ, dotenv=dotenv, host=host, port=port
        )
    return web_launch(blueprint, service, workdir=workdir, environ=environ, dotenv=dotenv, host=host, port=port)


def check_before_start(launch: Launch) -> Launch:
    """A UserError for what would make the engine fail after its start-up (a busy port, a model
    it cannot load here); the launch with the notes the checks add (and HF_HUB_OFFLINE=1 in its
    environment when a cached Hub model is served offline)."""
    ensure_port_free(launch.host, launch.port)
    env = dict(launch.env)
    notes = check_model_available(launch.model, env)
    return replace(launch, env=env, notes=[*launch.notes, *notes])


@contextmanager
def running_service(launch: Launch, *, workdir: Path, log: Callable[[str], None]) -> Iterator[Supervisor]:
    """Start the engine, wait for readiness, warm it up, yield it; stop its whole process tree on exit."""
    ensure_port_free(launch.host, launch.port)
    create_mount_folders(launch.mounts)
    engine = start_engine(launch.argv, launch.env, workdir, log)
    try:
        ready_url = launch.url + (launch.health_path or "/")
        any_answer = launch.health_path is None or launch.ready_on_any_answer
        wait_until_ready(engine, ready_url, launch.startup_timeout, any_answer=any_answer)
        if launch.warmup is not None:
            warm_up_here(launch.url, launch.warmup, launch.startup_timeout, log)
        yield engine
    finally:
        engine.stop()
