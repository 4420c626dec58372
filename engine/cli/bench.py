"""`mdeploy bench TARGET`: load-test an OpenAI-compatible endpoint, closed or open loop."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Subcommands

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Iterator
    from pathlib import Path

    from engine.bench.runner import LevelOutcome, Workload
    from engine.bench.target import Target

DESCRIPTION = """\
Stream chat completions at each level and report time to first token, inter-token latency,
time per output token and end-to-end latency (p50/p90/p99), requests/s and output tokens/s,
with a check of P90 E2E ≈ P90 TTFT + P90 ITL × output tokens. A level is a number of streams
kept in flight (--concurrency) or a request rate (--rate). A request counts as failed, with its
reason, when its stream ends without [DONE] or a finish reason, or (with --ignore-eos) with
fewer tokens than asked. Writes report.json (every request's timings), latency.png (each level's
distributions) and throughput.png; Ctrl-C keeps the levels already finished and exits 130.
TARGET is a base URL (http://host:port or .../v1) or MANIFEST:SERVICE, which is served on this
machine for the benchmark and stopped afterwards. Definitions: docs/bench.md."""

DEFAULT_PROMPT = "Write a short story about a robot who learns to paint."


def register(subparsers: Subcommands) -> None:
    parser = subparsers.add_parser("bench", description=DESCRIPTION)
    parser.add_argument("target", metavar="TARGET", help="base URL, or MANIFEST:SERVICE to serve locally first")
    load = parser.add_argument_group("load")
    load.add_argument("--concurrency", help="closed-loop levels: streams in flight, comma-separated (default: 1,4,16)")
    load.add_argument("--rate", help="open-loop levels instead: requests per second, comma-separated, e.g. 1,4")
    load.add_argument(
        "--arrivals",
        choices=("constant", "poisson"),
        default="constant",
        help="with --rate: evenly spaced requests, or a Poisson process (exponential gaps) (default: constant)",
    )
    load.add_argument(
        "--requests",
        type=int,
        help="requests per level (default: 4 x concurrency, or 10 s of arrivals at the rate; at least 8)",
    )
    load.add_argument(
        "--seed", type=int, default=0, help="seed of every random draw: lengths, prompts, arrivals (default: 0)"
    )
    shape = parser.add_argument_group("requests")
    shape.add_argument(
        "--max-tokens", default="128", help="max_tokens of each request: N, or A:B drawn uniformly (default: 128)"
    )
    shape.add_argument(
        "--ignore-eos",
        action="store_true",
        help="send ignore_eos (vLLM, SGLang) so every request generates max_tokens; fewer is a failure",
    )
    shape.add_argument(
        "--temperature",
        type=float,
        default=0.0,
        help="sampling temperature of each request (default: 0, greedy; `vllm bench serve` leaves it to the server)",
    )
    shape.add_argument("--prompt", help="the user message every request sends (default: a short story request)")
    shape.add_argument(
        "--prompt-len",
        help="instead of --prompt: synthetic prompts of N words (about N tokens), or A:B drawn uniformly",
    )
    shape.add_argument(
        "--dataset",
        metavar="FILE",
        help='instead: a JSON Lines file, one request a line: {"prompt": TEXT} or {"prompt_len": N}, optional "max_tokens"',
    )
    shape.add_argument("--model", help="model name to request (default: the first of GET /v1/models)")
    shape.add_argument("--api-key-env", default="OPENAI_API_KEY", help="env var holding a bearer token, if set")
    shape.add_argument("--timeout", type=float, default=300.0, help="seconds one request may take (default: 300)")
    report = parser.add_argument_group("report")
    report.add_argument(
        "--goodput",
        metavar="TARGETS",
        help="count requests meeting every target, e.g. ttft:500ms,itl:50ms (metrics: ttft, itl, tpot, e2e)",
    )
    report.add_argument(
        "--output",
        help="report folder (default: .mdeploy/bench/<time> in the manifest's project root, or here for a URL)",
    )
    report.add_argument("--no-plots", action="store_true", help="write report.json only")
    local = parser.add_argument_group("MANIFEST:SERVICE targets")
    local.add_argument("--env", help="Modal environment of the manifest")
    local.add_argument("--port", type=int, help="local port to serve on (default: a free one)")


def run(args: argparse.Namespace) -> int:
    import contextlib
    import os
    import sys
    import time
    from pathlib import Path

    from engine.bench.load import LoadSpec
    from engine.bench.runner import run_benchmark
    from engine.bench.target import discover_model, parse_target
    from engine.errors import UserError

    workload = _workload(args)
    if args.timeout <= 0:
        raise UserError(f"--timeout must be above 0, got {args.timeout:g}")
    if not 0.0 <= args.temperature < float("inf"):  # also refuses nan
        raise UserError(f"--temperature must be a finite number, 0 or above, got {args.temperature:g}")
    target = parse_target(args.target)
    api_key = os.environ.get(args.api_key_env) or None
    output = Path(args.output) if args.output else _report_folder(target, time.strftime("%Y%m%d-%H%M%S"))
    _check_output_folder(output)  # before the load: a run can take an hour

    finished: list[LevelOutcome] = []
    interrupted = False
    with contextlib.ExitStack() as stack:
        base_url = target.base_url or stack.enter_context(_served_locally(target, args))
        model = args.model or discover_model(base_url, api_key)
        spec = LoadSpec(
            base_url=base_url,
            model=model,
            api_key=api_key,
            request_timeout=args.timeout,
            ignore_eos=args.ignore_eos,
            temperature=args.temperature,
        )
        print(f"mdeploy: benchmarking {model} at {base_url}", file=sys.stderr)
        try:
            run_benchmark(spec, workload, finished)
        except KeyboardInterrupt:
            interrupted = True
            print(f"\nmdeploy: interrupted; reporting the {len(finished)} finished level(s)", file=sys.stderr)

    written = _write_report(args, output, base_url, model, workload, finished, interrupted)
    if interrupted:
        return 130
    if not any(outcome.summary.succeeded for outcome in finished):
        raise UserError("no request succeeded; see the errors above")
    return 0 if written else 1


def _workload(args: argparse.Namespace) -> Workload:
    from engine.bench.runner import Workload
    from engine.bench.workload import parse_concurrency, parse_goodput, parse_length, parse_rates, read_dataset
    from engine.errors import UserError

    if args.rate is not None and args.concurrency is not None:
        raise UserError("--rate and --concurrency are two kinds of level: give one of them")
    if args.arrivals != "constant" and args.rate is None:
        raise UserError("--arrivals applies to --rate levels: add --rate R")
    sources = [name for name in ("prompt", "prompt_len", "dataset") if getattr(args, name) is not None]
    if len(sources) > 1:
        raise UserError(
            f"--{sources[0].replace('_', '-')} and --{sources[1].replace('_', '-')}: give one source of prompts"
        )
    if args.requests is not None and args.requests < 1:
        raise UserError(f"--requests must be at least 1, got {args.requests}")
    levels = parse_rates(args.rate) if args.rate is not None else parse_concurrency(args.concurrency or "1,4,16")
    prompt = args.prompt if args.prompt is not None else (None if sources else DEFAULT_PROMPT)
    return Workload(
        levels=levels,
        requests=args.requests,
        max_tokens=parse_length("--max-tokens", args.max_tokens),
        prompt=prompt,
        prompt_len=parse_length("--prompt-len", args.prompt_len) if args.prompt_len is not None else None,
        dataset=read_dataset(args.dataset) if args.dataset is not None else None,
        arrivals=args.arrivals,
        seed=args.seed,
        goodput=parse_goodput(args.goodput) if args.goodput else {},
    )


def _write_report(
    args: argparse.Namespace,
    output: Path,
    base_url: str,
    model: str,
    workload: Workload,
    finished: list[LevelOutcome],
    interrupted: bool,
) -> bool:
    import sys

    from engine.bench.report import build_report, render_table, report_json

    if not finished:
        print("mdeploy: no level finished; nothing to report", file=sys.stderr)
        return False
    settings: dict[str, object] = {
        "levels": [level.value for level in workload.levels],
        "mode": "rate" if workload.levels[0].rate is not None else "concurrency",
        "arrivals": workload.arrivals,
        "requests": workload.requests,
        "max_tokens": str(workload.max_tokens),
        "ignore_eos": args.ignore_eos,
        "temperature": args.temperature,
        "prompt": workload.prompt,
        "prompt_len": str(workload.prompt_len) if workload.prompt_len else None,
        "dataset": args.dataset,
        "seed": workload.seed,
        "goodput": workload.goodput or None,
        "timeout": args.timeout,
    }
    report = build_report(base_url=base_url, model=model, settings=settings, outcomes=finished, interrupted=interrupted)
    print(render_table([outcome.summary for outcome in finished]))  # first: shown even if writing fails
    try:
        output.mkdir(parents=True, exist_ok=True)
        (output / "report.json").write_text(report_json(report), encoding="utf-8")
        written = [output / "report.json"]
        if not args.no_plots:
            from engine.bench.plots import write_plots

            written += write_plots(report, output)
    except OSError as exc:
        from engine.errors import UserError

        raise UserError(f"cannot write the report to {output}: {exc.strerror or exc}") from None
    for path in written:
        print(f"wrote {path}")
    return True


def _check_output_folder(output: Path) -> None:
    """The report folder can be made and written: it is a folder or does not exist yet, and its
    nearest existing parent is a folder this user can write in. A UserError otherwise."""
    import os

    from engine.cli.common import nearest_existing
    from engine.errors import UserError

    if output.exists() and not output.is_dir():
        raise UserError(f"--output {output}: exists and is not a folder; name a folder for the report")
    parent = nearest_existing(output)
    if not parent.is_dir():
        raise UserError(f"--output {output}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UserError(f"--output {output}: cannot write in {parent} (permission denied)")


def _report_folder(target: Target, stamp: str) -> Path:
    """`.mdeploy/bench/<time>` of the manifest's project, where its other local state lives; a
    URL has no manifest, so the current folder's."""
    from pathlib import Path

    from engine.local.state import local_root, state_folder

    root = local_root(target.manifest) if target.manifest else Path.cwd()
    return state_folder(root, "bench", stamp)


def _served_locally(target: Target, args: argparse.Namespace) -> contextlib.AbstractContextManager[str]:
    """Serve MANIFEST:SERVICE on a free local port for the length of the benchmark; the context
    gives the served base URL."""
    import os
    import sys
    from pathlib import Path

    from engine.local.ports import free_port
    from engine.local.service import check_before_start, prepare_launch, running_service
    from engine.local.source import load_blueprint
    from engine.local.state import local_root, state_folder

    manifest = target.manifest
    if manifest is None:  # parse_target names a manifest in every target that is not a URL
        raise ValueError(f"{target} has no manifest to serve")
    blueprint = load_blueprint(manifest, args.env)
    workdir = local_root(manifest)
    launch = prepare_launch(
        blueprint,
        target.service,
        workdir=workdir,
        environ=os.environ,
        dotenv_path=Path(".env"),
        port=args.port or free_port(),
    )
    # A `kind: server` may well be OpenAI-compatible (llama.cpp's server, vLLM by hand): the
    # benchmark asks it for its models like any URL; only a web app is refused here.
    if launch.kind == "web":
        from engine.errors import UserError

        raise UserError(f"{target.service or launch.service} is a web app, not an OpenAI-compatible LLM service")
    launch = check_before_start(launch)
    for note in launch.notes:
        print(f"mdeploy: {note}", file=sys.stderr)
    print(f"mdeploy: serving {launch.service} at {launch.url} for the benchmark", file=sys.stderr)
    log_path = state_folder(workdir, "logs", f"{launch.service}.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w", encoding="utf-8")

    import contextlib

    @contextlib.contextmanager
    def served() -> Iterator[str]:
        # The engine's log would interleave with the progress bar; it goes to a file instead.
        with (
            log_file,
            running_service(launch, workdir=workdir, log=lambda line: print(line, file=log_file, flush=True)),
        ):
            yield f"{launch.url}/v1"

    return served()
