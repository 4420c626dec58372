"""`mdeploy run MANIFEST FUNCTION [-- ARGS...]`: call a function's handler here, print the JSON
result; with `--remote` (or `--map FILE`), call the deployed function through Modal instead."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from engine.cli.common import Subcommands
from engine.cli.operate_common import allow_positionals_after_options

if TYPE_CHECKING:
    from engine.blueprint.model import Blueprint, FunctionSpec

DESCRIPTION = """\
Call a function of a manifest on this machine with JSON arguments and print its JSON result.
Arguments after `--` are positional JSON values (`3`, '"text"', '[1, 2]') or keywords
NAME=JSON (`limit=10`). The handler runs in this process with the function's env, its secrets'
keys from the environment or .env, and its volumes as folders under .mdeploy/volumes/NAME of the
manifest's project root. A mount path (`/data`) does not exist here: env values and string
arguments that name one are pointed at the local folder, and a path written in the handler's
code is named before the call, since it cannot be.

--remote calls the function of the deployed app instead (Modal's Function.from_name, then
.remote), in the --env environment, and prints its result as JSON; --map FILE calls it once per
line of a JSON Lines file (each line one input, its first argument) and prints one result per
line, in input order. Both need Modal credentials and a deployed app."""


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("run", description=DESCRIPTION)
    # `run MANIFEST FUNCTION --env prod -- 3` must read as `--env prod` and one argument, `3`.
    allow_positionals_after_options(parser)
    parser.add_argument("manifest", metavar="MANIFEST")
    parser.add_argument("function", metavar="FUNCTION")
    parser.add_argument("arguments", metavar="ARGS", nargs="*", help="JSON values or NAME=JSON (after --)")
    parser.add_argument("--env", help="Modal environment whose overlay applies (default: MODAL_ENVIRONMENT)")
    parser.add_argument("--remote", action="store_true", help="call the deployed function through Modal")
    parser.add_argument(
        "--map",
        metavar="FILE",
        help="call the deployed function once per line of this JSON Lines file (implies --remote)",
    )
    parser.add_argument(
        "--env-file",
        help="where secrets come from when not in the environment (default: .env, in the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from engine.cli.common import manifest_path, note_missing_overlay
    from engine.errors import UserError
    from engine.local.call import (
        call_handler,
        environment,
        find_function,
        import_handler,
        parse_call_arguments,
        result_json,
        user_traceback,
    )
    from engine.local.dotenv import env_file_path, read_dotenv
    from engine.local.launch import function_env
    from engine.local.mounts import create_mount_folders
    from engine.local.run_models import model_line, point_models_here
    from engine.local.run_mounts import (
        literal_warning,
        mount_lines,
        path_literals,
        rewrite_arguments,
        unreachable_path_message,
    )
    from engine.local.source import is_blueprint_file, load_blueprint
    from engine.local.state import local_root

    source = manifest_path(args)
    blueprint = load_blueprint(str(source), args.env)
    if not is_blueprint_file(source):  # a Blueprint file was planned for its environment already
        note_missing_overlay(source, args.env)
    function = find_function(blueprint, args.function)
    call_args, call_kwargs = parse_call_arguments(args.arguments)
    if args.remote or args.map:
        return _run_remote(args, blueprint, function, call_args, call_kwargs)
    root = local_root(source)
    env, mounts = function_env(
        blueprint, function, workdir=root, environ=os.environ, dotenv=read_dotenv(env_file_path(args.env_file))
    )
    create_mount_folders(mounts)
    call_args, call_kwargs = rewrite_arguments(call_args, mounts), rewrite_arguments(call_kwargs, mounts)
    for line in mount_lines(mounts):
        print(f"mdeploy: {line}", file=sys.stderr)
    for model in point_models_here(blueprint, function, env, os.environ):
        print(f"mdeploy: {model_line(model)}", file=sys.stderr)
    for literal in path_literals(function.handler, root, mounts):
        print(f"mdeploy: warning: {literal_warning(literal)}", file=sys.stderr)
    # Handlers are imported from the manifest's project (engine/project/root.py), as the deploy
    # ships them with add_local_python_source, then from the current folder.
    from engine.project.root import import_paths

    for folder in reversed([*import_paths(blueprint.source), str(root), os.getcwd()]):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    with environment(env):
        handler = import_handler(function.handler)
        try:
            result = call_handler(handler, call_args, call_kwargs)
        except UserError:
            raise
        except Exception as exc:  # the user's code failed: show its traceback, not ours
            print(user_traceback(exc), end="", file=sys.stderr)
            reason = unreachable_path_message(exc, function.handler, mounts)
            raise UserError(reason or f"{function.handler} raised {type(exc).__name__}: {exc}") from None
    print(result_json(result, function.handler))
    return 0


# The arguments are decoded JSON (engine/local/call.py's parse_call_arguments), hence Any.
def _run_remote(
    args: argparse.Namespace,
    blueprint: Blueprint,
    function: FunctionSpec,
    call_args: list[Any],
    call_kwargs: dict[str, Any],
) -> int:
    """The deployed function, called through Modal: no handler is imported here."""
    from pathlib import Path

    from engine.cli.common import chosen_environment
    from engine.cli.operate_common import require_credentials
    from engine.errors import UserError
    from engine.local.call import result_json
    from engine.operate.names import modal_names
    from engine.operate.remote_call import call_remote, map_remote, read_map_inputs

    if function.web is not None:
        raise UserError(f"{function.key!r} is an HTTP endpoint: Modal calls it over its URL, not with .remote()")
    if args.map and (call_args or call_kwargs):
        raise UserError("--map takes its inputs from the file: give no ARGS with it")
    inputs = read_map_inputs(Path(args.map)) if args.map else None
    require_credentials(None)  # `run` has no --dry-run to suggest
    env = chosen_environment(args) or _planned_environment(args, blueprint)
    names = modal_names(blueprint, env)
    name = names.by_key(function.key).name
    if inputs is None:
        print(result_json(call_remote(names.app, name, names.env, call_args, call_kwargs), function.handler))
        return 0
    for result in map_remote(names.app, name, names.env, inputs):
        print(result_json(result, function.handler, indent=None))  # JSON Lines, as the inputs
    return 0


def _planned_environment(args: argparse.Namespace, blueprint: Blueprint) -> str | None:
    """The environment a Blueprint file was planned for (load_blueprint refused another --env),
    None for a manifest. A Blueprint planned with no environment says `main`, the planner's
    default: None leaves it to Modal's default, as a manifest without --env does."""
    from engine.local.source import is_blueprint_file
    from engine.planner.defaults import DEFAULT_ENVIRONMENT

    if not is_blueprint_file(args.manifest) or blueprint.environment == DEFAULT_ENVIRONMENT:
        return None
    return blueprint.environment
