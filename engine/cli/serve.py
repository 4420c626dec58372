"""`mdeploy serve MANIFEST [SERVICE]`: run a service on this machine until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Subcommands

if TYPE_CHECKING:
    from engine.blueprint.model import Blueprint

DESCRIPTION = """\
Run a service of a manifest on this machine: its launch command from the plan, run in the
manifest's project root, with volumes mapped to .mdeploy/volumes/NAME there and secrets read from
the environment or a .env file. Checks first that the port is free and that the model can be
loaded (a model folder with a config.json; a Hub model cached or the Hub reachable). Waits until
the engine is healthy, prints the OpenAI base URL, streams the engine's log, and stops the
engine's whole process tree on Ctrl-C or SIGTERM, or when serve itself is killed. MANIFEST may
also be a Blueprint JSON file (`mdeploy plan --format json`)."""


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("serve", description=DESCRIPTION)
    parser.add_argument("manifest", metavar="MANIFEST")
    parser.add_argument("service", metavar="SERVICE", nargs="?", help="the service's name (default: the only one)")
    parser.add_argument("--env", help="Modal environment whose overlay applies (default: MODAL_ENVIRONMENT)")
    parser.add_argument("--port", type=int, help="local port (default: the service's port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument(
        "--env-file",
        help="where secrets come from when not in the environment (default: .env, in the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from engine.bench.target import discover_model
    from engine.cli.common import Stopped, manifest_path, note_missing_overlay, stop_on_sigterm
    from engine.errors import UserError
    from engine.local.dotenv import env_file_path
    from engine.local.service import check_before_start, prepare_launch, running_service
    from engine.local.source import is_blueprint_file, load_blueprint
    from engine.local.state import local_root

    source = manifest_path(args)
    blueprint = load_blueprint(str(source), args.env)
    if not is_blueprint_file(source):  # a Blueprint file was planned for its environment already
        note_missing_overlay(source, args.env)
    workdir = local_root(source)
    launch = prepare_launch(
        blueprint,
        args.service,
        workdir=workdir,
        environ=os.environ,
        dotenv_path=env_file_path(args.env_file),
        host=args.host,
        port=args.port,
    )
    # Checked before announcing the start (running_service checks the port again, for bench): a
    # port or model error must not follow a line saying the engine is starting.
    launch = check_before_start(launch)
    for note in launch.notes:
        print(f"mdeploy: {note}", file=sys.stderr)
    print(f"mdeploy: starting {launch.service}: {' '.join(_shown(launch.argv, blueprint))}", file=sys.stderr)

    stop_on_sigterm()
    prefix = f"[{launch.service}] "
    try:
        with running_service(
            launch, workdir=workdir, log=lambda line: print(prefix + line, file=sys.stderr, flush=True)
        ) as engine:
            print(f"mdeploy: {launch.service} is ready at {launch.url}", flush=True)
            if launch.served_model is not None:
                try:
                    model = discover_model(f"{launch.url}/v1", None)
                except UserError:
                    model = launch.served_model
                print(f"OpenAI base URL: {launch.url}/v1", flush=True)
                print(f"model: {model}", flush=True)
            print("mdeploy: press Ctrl-C to stop", file=sys.stderr, flush=True)
            code = engine.wait()
            raise UserError(f"the engine exited with code {code}")
    except Stopped as stop:
        print(f"mdeploy: stopped {launch.service}", file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print(f"\nmdeploy: stopped {launch.service}", file=sys.stderr)
        return 130


def _shown(argv: tuple[str, ...], blueprint: Blueprint) -> list[str]:
    """The command as printed: secret arguments' values are masked (they came from the environment)."""
    secret_flags = {arg.flag for server in blueprint.servers for arg in server.secret_args}
    shown = list(argv)
    for index, arg in enumerate(shown[:-1]):
        if arg in secret_flags:
            shown[index + 1] = "***"
    return shown
