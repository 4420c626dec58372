"""`mdeploy bench TARGET`: load-test an OpenAI-compatible endpoint at several concurrency levels."""

from __future__ import annotations

import argparse

DESCRIPTION = """\
Stream chat completions at each concurrency level and report time to first token, inter-token
latency and time to last token (p50/p90/p99), requests/s and output tokens/s, with a check of
P90 TTLT ≈ P90 TTFT + P90 ITL × output tokens. Writes report.json, latency.png and
throughput.png. TARGET is a base URL (http://host:port or .../v1) or MANIFEST:SERVICE, which is
served on this machine for the benchmark and stopped afterwards."""

DEFAULT_PROMPT = "Write a short story about a robot who learns to paint."


def register(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="load-test an OpenAI-compatible endpoint", description=DESCRIPTION)
    parser.add_argument("target", metavar="TARGET", help="base URL, or MANIFEST:SERVICE to serve locally first")
    parser.add_argument("--concurrency", default="1,4,16", help="levels, comma-separated (default: 1,4,16)")
    parser.add_argument("--requests", type=int, help="requests per level (default: 4 x concurrency, at least 8)")
    parser.add_argument("--max-tokens", type=int, default=128, help="max_tokens of each request (default: 128)")
    parser.add_argument("--prompt", default=DEFAULT_PROMPT, help="the user message every request sends")
    parser.add_argument("--model", help="model name to request (default: the first of GET /v1/models)")
    parser.add_argument("--api-key-env", default="OPENAI_API_KEY", help="env var holding a bearer token, if set")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take (default: 300)")
    parser.add_argument("--output", help="report folder (default: .mdeploy/bench/<time>)")
    parser.add_argument("--no-plots", action="store_true", help="write report.json only")
    parser.add_argument("--env", help="Modal environment, for MANIFEST:SERVICE targets")
    parser.add_argument("--port", type=int, help="local port, for MANIFEST:SERVICE targets (default: a free one)")


def run(args: argparse.Namespace) -> int:
    import contextlib
    import os
    import sys
    import time
    from pathlib import Path

    from engine.bench.load import LoadSpec
    from engine.bench.report import build_report, render_table, report_json
    from engine.bench.runner import parse_levels, run_benchmark
    from engine.bench.target import discover_model, parse_target
    from engine.errors import UserError

    levels = parse_levels(args.concurrency)
    for name in ("requests", "max_tokens"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    target = parse_target(args.target)
    api_key = os.environ.get(args.api_key_env) or None
    output = Path(args.output or Path(".mdeploy") / "bench" / time.strftime("%Y%m%d-%H%M%S"))

    with contextlib.ExitStack() as stack:
        base_url = target.base_url or stack.enter_context(_served_locally(target, args))
        model = args.model or discover_model(base_url, api_key)
        spec = LoadSpec(
            base_url=base_url,
            model=model,
            prompt=args.prompt,
            max_tokens=args.max_tokens,
            api_key=api_key,
            request_timeout=args.timeout,
        )
        print(f"mdeploy: benchmarking {model} at {base_url}", file=sys.stderr)
        summaries = run_benchmark(spec, levels, args.requests)

    settings = {
        "concurrency": levels,
        "requests": args.requests,
        "max_tokens": args.max_tokens,
        "prompt": args.prompt,
        "timeout": args.timeout,
    }
    report = build_report(base_url=base_url, model=model, settings=settings, levels=summaries)
    output.mkdir(parents=True, exist_ok=True)
    (output / "report.json").write_text(report_json(report), encoding="utf-8")
    written = [output / "report.json"]
    if not args.no_plots:
        from engine.bench.plots import write_plots

        written += write_plots(report, output)
    print(render_table(summaries))
    for path in written:
        print(f"wrote {path}")
    if not any(level.succeeded for level in summaries):
        raise UserError("no request succeeded; see the errors above")
    return 0


def _served_locally(target, args):
    """Serve MANIFEST:SERVICE on a free local port for the length of the benchmark."""
    import os
    import sys
    from pathlib import Path

    from engine.local.ports import free_port
    from engine.local.service import prepare_launch, running_service
    from engine.local.source import load_blueprint

    blueprint = load_blueprint(target.manifest, args.env)
    workdir = Path.cwd()
    launch = prepare_launch(
        blueprint,
        target.service,
        workdir=workdir,
        environ=os.environ,
        dotenv_path=workdir / ".env",
        port=args.port or free_port(),
    )
    if launch.served_model is None:
        from engine.errors import UserError

        raise UserError(f"{target.service or launch.service} is a web app, not an OpenAI-compatible LLM service")
    print(f"mdeploy: serving {launch.service} at {launch.url} for the benchmark", file=sys.stderr)
    log_path = workdir / ".mdeploy" / "logs" / f"{launch.service}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w", encoding="utf-8")

    import contextlib

    @contextlib.contextmanager
    def served():
        # The engine's log would interleave with the progress bar; it goes to a file instead.
        with log_file, running_service(launch, workdir=workdir, log=lambda line: print(line, file=log_file, flush=True)):
            yield f"{launch.url}/v1"

    return served()
