"""`mdeploy demo`: plan, serve, ask and stop the tiny chat model on this machine, then exit."""

from __future__ import annotations

import argparse

from engine.cli.common import Subcommands

DESCRIPTION = """\
The main job, once, on this machine: plan manifests/local-chat.yaml for its `tiny` environment,
write the tiny test model where that plan points (.mdeploy/models/tiny-chat, unless it is there),
serve it through the plan with `transformers serve` on the CPU, ask it one question through the
OpenAI API with the openai client, print the answer, stop the server and exit. Offline, no GPU
needed; needs the local extra (pip install -e ".[local]"). Each step names the command that does
it alone. The engine's log goes to .mdeploy/logs/chat.log."""


def register(subparsers: Subcommands) -> None:
    from engine.local.demo import DEFAULT_MAX_TOKENS, DEFAULT_QUESTION

    parser = subparsers.add_parser("demo", description=DESCRIPTION)
    parser.add_argument("--question", default=DEFAULT_QUESTION, help=f"what to ask (default: {DEFAULT_QUESTION!r})")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=DEFAULT_MAX_TOKENS,
        help=f"the answer's length limit (default: {DEFAULT_MAX_TOKENS})",
    )
    parser.add_argument("--port", type=int, help="local port to serve on (default: a free one)")


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from pathlib import Path

    from engine.cli.common import Stopped, stop_on_sigterm
    from engine.errors import UserError
    from engine.local.demo import DEMO_ENVIRONMENT, find_demo_manifest, run_demo
    from engine.local.state import shown_path

    if args.max_tokens < 1:
        raise UserError(f"--max-tokens must be at least 1, got {args.max_tokens}")
    manifest = find_demo_manifest(Path.cwd(), Path(__file__).resolve().parents[2])
    stop_on_sigterm()  # SIGTERM stops the engine on the way out, as Ctrl-C does

    def say(line: str) -> None:
        print(line, flush=True)

    # Whatever step is interrupted, nothing of the demo is left: the engine's tree is stopped and
    # a half-written model removed (engine/local/demo.py).
    interrupted = "\nmdeploy: the demo was interrupted; nothing of it is left running"
    try:
        run_demo(
            manifest,
            environ=dict(os.environ),
            say=say,
            question=args.question,
            max_tokens=args.max_tokens,
            port=args.port,
        )
    except Stopped as stop:
        print(interrupted, file=sys.stderr)
        return stop.exit_code
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    shown = shown_path(manifest)
    following = [
        (f"mdeploy serve {shown} --env {DEMO_ENVIRONMENT}", "keep it running; Ctrl-C stops it"),
        (f"mdeploy bench {shown}:chat --env {DEMO_ENVIRONMENT} --concurrency 1,2,4", "a benchmark report"),
        ("mdeploy init", "a first manifest of your own"),
    ]
    width = max(len(command) for command, _ in following)
    say("")
    say("next:")
    for command, why in following:
        say(f"  {command:<{width}}  # {why}")
    return 0
