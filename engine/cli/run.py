"""`mdeploy run MANIFEST FUNCTION [-- ARGS...]`: call a function's handler here, print the JSON result."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Call a function of a manifest on this machine with JSON arguments and print its JSON result.
Arguments after `--` are positional JSON values (`3`, '"text"', '[1, 2]') or keywords
NAME=JSON (`limit=10`). The handler runs in this process with the function's env, its secrets'
keys from the environment or .env, and its volumes as folders under .mdeploy/volumes/NAME of the
manifest's project root. A mount path (`/data`) does not exist here: env values and string
arguments that name one are pointed at the local folder, and a path written in the handler's
code is named before the call, since it cannot be."""


def register(subparsers) -> None:
    parser = subparsers.add_parser("run", description=DESCRIPTION)
    parser.add_argument("manifest", metavar="MANIFEST")
    parser.add_argument("function", metavar="FUNCTION")
    parser.add_argument("arguments", metavar="ARGS", nargs="*", help="JSON values or NAME=JSON (after --)")
    parser.add_argument("--env", help="Modal environment whose overlay applies (default: MODAL_ENVIRONMENT)")
    parser.add_argument(
        "--env-file",
        default=".env",
        help="where secrets come from when not in the environment (default: .env, in the current folder)",
    )


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    from engine.cli.common import manifest_path
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
    from engine.local.dotenv import read_dotenv
    from engine.local.launch import function_env
    from engine.local.mounts import create_mount_folders
    from engine.local.run_mounts import (
        literal_warning,
        mount_lines,
        path_literals,
        rewrite_arguments,
        unreachable_path_message,
    )
    from engine.local.source import load_blueprint
    from engine.local.state import local_root

    source = manifest_path(args)
    blueprint = load_blueprint(str(source), args.env)
    function = find_function(blueprint, args.function)
    call_args, call_kwargs = parse_call_arguments(args.arguments)
    root = local_root(source)
    env, mounts = function_env(
        blueprint, function, workdir=root, environ=os.environ, dotenv=read_dotenv(Path(args.env_file))
    )
    create_mount_folders(mounts)
    call_args, call_kwargs = rewrite_arguments(call_args, mounts), rewrite_arguments(call_kwargs, mounts)
    for line in mount_lines(mounts):
        print(f"mdeploy: {line}", file=sys.stderr)
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
