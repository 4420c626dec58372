"""What to start on this machine for one service: argv, environment, address and readiness check.

The Blueprint's launch command is run as it is, with only what this machine forces changed, each
change listed in `Launch.notes` so the user sees it:
- mount paths in arguments and environment point at local folders (see mounts.py);
- the server listens at the local address (loopback by default: a local run is not a deployment);
- an engine that can run on CPU (`transformers`, `needs_gpu` false) runs on the CPU where it asked
  for CUDA and this machine has no GPU; a GPU engine with a CPU build (vLLM, `Engine.cpu_launch`)
  runs on that build, less what the CPU cannot do, when it is installed (its executable on PATH or
  named by `Engine.executable_env`); another GPU engine on such a machine is a clear error instead;
both derived again from the server's fields by the engine's own argv builder (engine/engines/),
the one place that knows the engine's flags;
- secret arguments get their values from the environment at launch, as in the container.

`web` services (asgi_app / wsgi_app / fastapi_endpoint functions) run under uvicorn, the server
Modal uses for them; a `web_server` handler is called and starts its own server, as in Modal.

`workdir` is the project root (engine/local/state.py): mounts map below its `.mdeploy/`, and the
engine runs there, so a relative model path means the same folder from wherever `serve` runs.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from engine.blueprint.model import Blueprint, ContainerSpec, FunctionSpec, ServerSpec, WarmupSpec
from engine.blueprint.server_command import fill_command, uses_placeholder
from engine.engines.common import Engine, local_command
from engine.engines.registry import get_engine
from engine.errors import UserError
from engine.local.model_source import HubModel, ModelFolder, model_source
from engine.local.mounts import LocalMount, hf_home, local_mounts, rewrite_path
from engine.local.process import find_executable
from engine.local.secrets import secret_arguments, secret_values
from engine.local.state import shown_path
from engine.project.root import import_paths

DEFAULT_WEB_PORT = 8000
DEFAULT_WEB_STARTUP_TIMEOUT = 120
ENDPOINT_APP_FACTORY = "engine.local.endpoint_app:create_app"
# Resolves the handler as the container does (engine.runtime.handler_import), calls it, idles.
WEB_SERVER_RUNNER = (
    "import sys, time\n"
    "from engine.runtime.handler_import import import_handler\n"
    "import_handler(sys.argv[1])()\n"
    "while True: time.sleep(3600)\n"
)


@dataclass(frozen=True)
class Launch:
    service: str
    argv: tuple[str, ...]
    env: dict[str, str]
    host: str
    port: int
    startup_timeout: int
    health_path: str | None  # None: any HTTP answer means ready (web apps have no health route)
    served_model: str | None  # the name OpenAI clients send as `model`; None for web apps
    mounts: list[LocalMount] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    model: HubModel | ModelFolder | None = None  # what the engine loads, checked before it starts
    kind: str = "web"  # "llm" (an engine), "server" (`kind: server`: its own command) or "web"
    warmup: WarmupSpec | None = None  # sent once ready, as in the container
    ready_on_any_answer: bool = False

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"


def machine_has_gpu() -> bool:
    """A cheap, import-free check: NVIDIA's driver tools are installed where a GPU is usable."""
    return shutil.which("nvidia-smi") is not None


def server_launch(
    blueprint: Blueprint,
    server: ServerSpec,
    *,
    workdir: Path,
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    host: str,
    port: int | None,
    has_gpu: bool,
) -> Launch:
    owner = f"service {server.key!r}"
    mounts = local_mounts(blueprint, server.container, workdir)
    env = _process_env(blueprint, server.container, mounts, environ, dotenv, workdir, owner=owner)
    if server.kind == "server":
        return _command_launch(server, mounts, env, host=host, port=port, has_gpu=has_gpu)
    engine = get_engine(server.engine)
    no_gpu_for_it = bool(server.container.gpu) and not has_gpu and server.needs_gpu
    if no_gpu_for_it and engine.cpu_launch is None:
        raise UserError(
            f"{owner} runs engine {server.engine!r} on GPU {', '.join(server.container.gpu)}, and this machine "
            f"has no GPU; only the transformers engine and vLLM (its CPU build) run on CPU "
            f"(deploy it, or bench a deployed URL)"
        )
    local_port = port if port is not None else server.port
    command, engine_env, notes = local_command(
        engine,
        server,
        host=host,
        port=local_port,
        gpu_here=has_gpu,
        environ=env,
        local_path=lambda path: rewrite_path(path, mounts),
    )
    env.update(engine_env)
    argv = [rewrite_path(arg, mounts) for arg in command]
    if argv and argv[0] == engine.command(server)[0]:
        argv[0] = _engine_executable(engine, argv[0], env, owner=owner, required=no_gpu_for_it)
    argv += secret_arguments(server.secret_args, env, owner=owner)
    # A model served from a mounted path is known to the engine by that path, now a local one.
    served = rewrite_path(server.served_model_name, mounts)
    return Launch(
        service=server.key,
        argv=tuple(argv),
        env=env,
        host=host,
        port=local_port,
        startup_timeout=server.startup_timeout,
        health_path=server.health_path,
        served_model=served,
        mounts=mounts,
        notes=notes + _mount_notes(mounts),
        model=model_source(server, mounts, workdir),
        kind="llm",
        warmup=server.warmup,
    )


def _command_launch(
    server: ServerSpec, mounts: list[LocalMount], env: dict[str, str], *, host: str, port: int | None, has_gpu: bool
) -> Launch:
    """A `kind: server` here: its command template filled with this machine's address, run as
    it is (whether it runs without the GPU it asks for is the command's own business)."""
    owner = f"service {server.key!r}"
    local_port = port if port is not None else server.port
    if local_port != server.port and not uses_placeholder(server.command_template, "PORT"):
        raise UserError(
            f"{owner} listens on port {server.port}, fixed in its command (no ${{PORT}}): "
            f"drop --port or pass {server.port}, or write ${{PORT}} in the command"
        )
    argv = [rewrite_path(arg, mounts) for arg in fill_command(server.command_template, port=local_port, host=host)]
    notes = []
    if server.container.gpu and not has_gpu:
        notes.append(
            f"{owner} asks for GPU {', '.join(server.container.gpu)} and this machine has none: "
            "its command runs as it is, on the CPU"
        )
    return Launch(
        service=server.key,
        argv=tuple(argv),
        env=env,
        host=host,
        port=local_port,
        startup_timeout=server.startup_timeout,
        health_path=server.health_path,
        served_model=None,
        mounts=mounts,
        notes=notes + _mount_notes(mounts),
        kind="server",
        warmup=server.warmup,
        ready_on_any_answer=server.ready_on_any_answer,
    )


def web_launch(
    blueprint: Blueprint,
    function: FunctionSpec,
    *,
    workdir: Path,
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    host: str,
    port: int | None,
) -> Launch:
    owner = f"service {function.key!r}"
    web = function.web
    if web is None:
        raise UserError(f"{function.key!r} is a function, not a service: call it with `mdeploy run`")
    mounts = local_mounts(blueprint, function.container, workdir)
    env = _process_env(blueprint, function.container, mounts, environ, dotenv, workdir, owner=owner)
    local_port = port if port is not None else DEFAULT_WEB_PORT
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", host, "--port", str(local_port)]
    # asgi_app / wsgi_app handlers name the app object itself, as the Modal backend returns it.
    if web.kind == "asgi_app":
        argv = [*uvicorn, function.handler]
    elif web.kind == "wsgi_app":
        argv = [*uvicorn, "--interface", "wsgi", function.handler]
    elif web.kind == "fastapi_endpoint":
        env["MDEPLOY_ENDPOINT_HANDLER"] = function.handler
        env["MDEPLOY_ENDPOINT_METHOD"] = web.method or "GET"
        env["MDEPLOY_ENDPOINT_DOCS"] = "1" if web.docs else ""
        argv = [*uvicorn, "--factory", ENDPOINT_APP_FACTORY]
    elif web.kind == "web_server" and web.port is not None:
        # The handler starts its own server on web.port (usually a child process) and returns;
        # this process then idles so the server's process group lives until `serve` stops it.
        if port is not None and port != web.port:
            raise UserError(
                f"{owner} listens on port {web.port}, chosen by its handler: drop --port or pass {web.port}"
            )
        local_port = web.port
        argv = [sys.executable, "-c", WEB_SERVER_RUNNER, function.handler]
    else:
        raise UserError(f"{owner} is a {web.kind} web function, which `mdeploy serve` cannot run locally")
    return Launch(
        service=function.key,
        argv=tuple(argv),
        env=env,
        host=host,
        port=local_port,
        startup_timeout=web.startup_timeout or DEFAULT_WEB_STARTUP_TIMEOUT,
        health_path=None,
        served_model=None,
        mounts=mounts,
        notes=_mount_notes(mounts),
    )


def function_env(
    blueprint: Blueprint,
    function: FunctionSpec,
    *,
    workdir: Path,
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
) -> tuple[dict[str, str], list[LocalMount]]:
    """The environment a function's handler runs in locally, and its mounts."""
    mounts = local_mounts(blueprint, function.container, workdir)
    env = _process_env(
        blueprint, function.container, mounts, environ, dotenv, workdir, owner=f"function {function.key!r}"
    )
    return env, mounts


def _engine_executable(engine: Engine, name: str, env: Mapping[str, str], *, owner: str, required: bool) -> str:
    """The engine's executable: the one `engine.executable_env` names, else `name` (found on PATH
    when the engine starts). `required`: this machine runs the engine's CPU build, which is no
    default install, so its absence is said now, with how to install it."""
    variable = engine.executable_env
    chosen = env.get(variable) if variable else None
    if chosen:
        if not (os.path.isfile(chosen) and os.access(chosen, os.X_OK)):
            raise UserError(f"{variable}={chosen} is not an executable file: point it at a {name} executable")
        return chosen
    if required and find_executable(name, env.get("PATH")) is None:
        where = f"put `{name}` on PATH or set {variable} to it" if variable else f"put `{name}` on PATH"
        raise UserError(
            f"{owner} runs engine {engine.name!r}, and this machine has no GPU and no {name}: install "
            f"{engine.name}'s CPU build (docs/local.md) and {where}"
        )
    return name


def _process_env(
    blueprint: Blueprint,
    container: ContainerSpec,
    mounts: list[LocalMount],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    workdir: Path,
    *,
    owner: str,
) -> dict[str, str]:
    """This machine's environment, then .env, then the secrets' keys, then the container's env."""
    env = dict(environ)
    for key, value in dotenv.items():
        env.setdefault(key, value)
    env.update(secret_values(blueprint, container.secrets, environ, dotenv, owner=owner))
    env.update({key: rewrite_path(value, mounts) for key, value in container.env.items()})
    cache = hf_home(mounts)
    if cache is not None and "HF_HOME" not in container.env:
        env["HF_HOME"] = str(cache)
    # Handlers are imported from the manifest's project (engine/project/root.py), as the deploy
    # ships them with `add_local_python_source`, then from the current folder.
    folders = (*import_paths(blueprint.source), str(workdir), os.getcwd(), environ.get("PYTHONPATH", ""))
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in folders if p))
    return env


def _mount_notes(mounts: list[LocalMount]) -> list[str]:
    notes = [f"{m.kind} {m.container_path} -> {shown_path(m.local_path)}" for m in mounts]
    notes += [f"bucket at {m.container_path} is an empty local folder here" for m in mounts if m.kind == "bucket"]
    return notes
