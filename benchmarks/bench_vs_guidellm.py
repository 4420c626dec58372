"""`mdeploy bench` and guidellm side by side against the same server, with each tool's definitions.

Both clients send the same load — closed loop at --concurrency, --requests streams of
--output-len tokens with ignore_eos, the same prompts — to one OpenAI-compatible server,
alternately, and this prints, per metric, each one's figure and the ratio mdeploy / guidellm.

By default the server is benchmarks/fake_openai_server.py, started here, which sends each stream
its tokens --token-delay seconds apart: the true figures are then known (TTFT and every gap the
delay, the last token n delays after the request) and printed as a third column. --server sse
starts benchmarks/sse_stream_server.py instead (a batched decoder: every step, each stream gets
a token), and --url takes any running server (`transformers serve`, vLLM). --breakdown has the
sse server log when each request arrived and when its first token was written, and splits each
tool's TTFT into the way there, the server's own delay and the way back.

Each client's CPU per token is printed too: mdeploy's from its report (process CPU time in the
load phase), guidellm's as its whole process tree's (it works in several processes), sampled.

guidellm's synthetic prompts are cut to --input-len tokens with a tokenizer: the tiny model's
(engine/local/tiny_model.py), written here, unless --tokenizer names one; nothing is downloaded.
mdeploy then sends the very prompts guidellm sent, read back from guidellm's report.

The two tools do not name the same things alike (docs/bench.md, "Side by side with guidellm"):
guidellm's ITL is (last token - first token) / (tokens - 1) per request, which is what mdeploy
and vLLM call TPOT; guidellm's TPOT is (last token - request start) / tokens; its request
latency ends when the response ends, mdeploy's E2E at the last token. So rows pair figures of
the same definition; where a tool reports no such figure, it is computed here from that tool's
own per-request records (marked *).

    python benchmarks/bench_vs_guidellm.py                              # fake server, 10 ms a token
    python benchmarks/bench_vs_guidellm.py --url http://127.0.0.1:8000 --model NAME --tokenizer DIR
    python benchmarks/bench_vs_guidellm.py --quick                      # a smoke run

`guidellm` is looked up with --guidellm, then on PATH, then in /tmp/glvenv (see docs/bench.md for
that setup). Without it the script says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, beside this file
from bench_common import (  # noqa: E402
    REPO,
    TreeCpuSampler,
    mean,
    percentile,
    print_table,
    run_checked,
    run_mdeploy,
    server_histograms,
    server_means,
    start_server,
    stop_server,
)

GUIDELLM_VENV = Path("/tmp/glvenv/bin/guidellm")
FAKE_MODEL = "fake-model"  # the name both local servers answer to


def find_guidellm(named: str | None) -> str | None:
    if named:
        return named
    return shutil.which("guidellm") or (str(GUIDELLM_VENV) if GUIDELLM_VENV.exists() else None)


# --- each tool's per-request times, as (start, first token, last token, response end, tokens) ---


def guidellm_requests(report: dict) -> list[tuple[float, float, float, float, int]]:
    """guidellm's successful requests: its own timestamps (time.time(), seconds).

    A request guidellm counts as successful with no content chunk (the server's usage said some
    tokens, none streamed as text) has no token times: it is left out, as guidellm's own latency
    figures leave it out (mdeploy fails it: "stream ended without any token").
    """
    rows = []
    for request in report["benchmarks"][0]["requests"]["successful"]:
        timings = request["info"]["timings"]
        if timings["first_token_iteration"] is None or timings["last_token_iteration"] is None:
            continue
        rows.append(
            (
                timings["request_start"],
                timings["first_token_iteration"],
                timings["last_token_iteration"],
                timings["request_end"],
                request["output_tokens"],
            )
        )
    return rows


def mdeploy_requests(level: dict) -> list[tuple[float, float, float, float, int]]:
    """mdeploy's successful requests: times in seconds after the level started."""
    return [
        (record["start"], record["first_token"], record["last_token"], record["end"], record["output_tokens"])
        for record in level["records"]
        if record["status"] == "ok"
    ]


def derived(requests: list[tuple[float, float, float, float, int]]) -> dict[str, list[float]]:
    """Per-request figures in ms under one definition each, whichever tool stamped the times."""
    return {
        "ttft": [(first - start) * 1000 for start, first, _, _, _ in requests],
        "tpot": [(last - first) * 1000 / (n - 1) for _, first, last, _, n in requests if n > 1],
        "per_token": [(last - start) * 1000 / n for start, _, last, _, n in requests if n],
        "e2e": [(last - start) * 1000 for start, _, last, _, _ in requests],
        "latency": [(end - start) * 1000 for start, _, _, end, _ in requests],
    }


def guidellm_metric(report: dict, name: str, statistic: str = "mean") -> float:
    """One of guidellm's own summary figures, over its successful requests."""
    figures = report["benchmarks"][0]["metrics"][name]["successful"]
    return figures["mean"] if statistic == "mean" else figures["percentiles"][statistic]


def guidellm_prompts(report: dict) -> list[str]:
    """The text of each prompt guidellm sent (its user message's text parts), in the order sent."""
    requests = sorted(
        report["benchmarks"][0]["requests"]["successful"], key=lambda r: r["info"]["timings"]["request_start"]
    )
    prompts = []
    for request in requests:
        content = json.loads(request["request_args"])["body"]["messages"][-1]["content"]
        prompts.append(content if isinstance(content, str) else "".join(part.get("text", "") for part in content))
    return prompts


# (label, mdeploy's figure, guidellm's figure); a figure is ("own", key) for what the tool reports
# itself, ("derived", key, statistic) for what is computed here from its records (shown with *).
ROWS = (
    ("TTFT mean (ms)", ("own", "ttft", "mean"), ("own", "time_to_first_token_ms", "mean")),
    ("TTFT p50 (ms)", ("own", "ttft", "p50"), ("own", "time_to_first_token_ms", "p50")),
    ("(last-first)/(n-1) mean (ms)", ("own", "tpot", "mean"), ("own", "inter_token_latency_ms", "mean")),
    ("(last-first)/(n-1) p50 (ms)", ("own", "tpot", "p50"), ("own", "inter_token_latency_ms", "p50")),
    ("(last-start)/n mean (ms)", ("derived", "per_token", "mean"), ("own", "time_per_output_token_ms", "mean")),
    ("start->last token mean (ms)", ("own", "e2e", "mean"), ("derived", "e2e", "mean")),
    ("start->last token p90 (ms)", ("own", "e2e", "p90"), ("derived", "e2e", "p90")),
    ("start->response end mean (ms)", ("derived", "latency", "mean"), ("own", "request_latency", "mean")),
    ("output tok/s", ("own", "output_tokens_per_second", None), ("own", "output_tokens_per_second", "mean")),
    ("requests/s", ("own", "requests_per_second", None), ("own", "requests_per_second", "mean")),
)
SECONDS = {"ttft", "tpot", "e2e"}  # mdeploy's summary keeps these in seconds
GUIDELLM_SECONDS = {"request_latency"}


def statistic_of(values: list[float], statistic: str) -> float:
    return mean(values) if statistic == "mean" else percentile(values, float(statistic[1:]))


def mdeploy_figure(level: dict, spec: tuple) -> float:
    kind, key, statistic = spec
    if kind == "derived":
        return statistic_of(derived(mdeploy_requests(level))[key], statistic)
    value = level[key] if statistic is None else level[key][statistic]
    return float(value) * (1000 if key in SECONDS else 1)


def guidellm_figure(report: dict, spec: tuple) -> float:
    kind, key, statistic = spec
    if kind == "derived":
        return statistic_of(derived(guidellm_requests(report))[key], statistic)
    return guidellm_metric(report, key, statistic) * (1000 if key in GUIDELLM_SECONDS else 1)


def table_rows(levels: list[dict], reports: list[dict], truth: dict[str, float] | None = None) -> list[tuple]:
    """Each row's figures, averaged over the rounds, with the server's true value where known."""
    rows = []
    for label, mine, theirs in ROWS:
        star_mine = "*" if mine[0] == "derived" else ""
        star_theirs = "*" if theirs[0] == "derived" else ""
        rows.append(
            (
                f"{label}{' ' + star_mine + '/' + star_theirs if star_mine or star_theirs else ''}",
                mean([mdeploy_figure(level, mine) for level in levels]),
                mean([guidellm_figure(report, theirs) for report in reports]),
                (truth or {}).get(label),
            )
        )
    return rows


def true_figures(args) -> dict[str, float] | None:
    """What the fake server's pacing makes each figure, before any client or server overhead."""
    if args.server != "fake" or args.given_url:
        return None
    delay_ms, n = args.token_delay * 1000, args.output_len
    return {
        "TTFT mean (ms)": delay_ms,
        "TTFT p50 (ms)": delay_ms,
        "(last-first)/(n-1) mean (ms)": delay_ms,
        "(last-first)/(n-1) p50 (ms)": delay_ms,
        "(last-start)/n mean (ms)": delay_ms,
        "start->last token mean (ms)": n * delay_ms,
        "start->last token p90 (ms)": n * delay_ms,
        "start->response end mean (ms)": n * delay_ms,
        "output tok/s": args.concurrency * 1000 / delay_ms,
        "requests/s": args.concurrency * 1000 / (n * delay_ms),
    }


# --- running the tools ---


def run_guidellm(args, out: Path) -> tuple[dict, float]:
    """One guidellm run: its report, and the CPU seconds its processes spent in its load phase."""
    out.mkdir(parents=True, exist_ok=True)
    command = [
        args.guidellm,
        "run",
        "--backend",
        # greedy, as mdeploy bench sends (guidellm sends no temperature: a vLLM server would sample)
        f"kind=openai_http,target={args.url},model={args.model},extras.body.temperature=0"
        + ("" if args.ignore_eos else f",max_tokens={args.output_len}"),
        "--profile",
        f"kind=concurrent,streams={args.concurrency}",
        "--constraint",
        f"kind=max_requests,count={args.requests}",
        "--data",
        # output_tokens makes guidellm send max_completion_tokens with ignore_eos; without it,
        # the backend's max_tokens sends max_completion_tokens alone (--no-ignore-eos)
        f"kind=synthetic_text,prompt_tokens={args.input_len}"
        + (f",output_tokens={args.output_len}" if args.ignore_eos else ""),
        "--tokenizer",
        f"kind=hf_auto,model={args.tokenizer}",
        "--output",
        f"kind=json,path={out / 'report.json'}",
        "--disable-console",
    ]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    # guidellm does its work in worker processes: its CPU is its whole process tree's, sampled on
    # the wall clock and read off between its load phase's start and end (from its report).
    with open(out / "guidellm.log", "w") as log:
        proc = subprocess.Popen(args.client_prefix + command, env=env, stdout=log, stderr=subprocess.STDOUT)
        with TreeCpuSampler(proc.pid) as sampler:
            returncode = proc.wait(timeout=1800)
    if returncode != 0:
        raise SystemExit(f"guidellm failed ({returncode}):\n{(out / 'guidellm.log').read_text()[-3000:]}")
    report: dict = json.loads((out / "report.json").read_text())
    benchmark = report["benchmarks"][0]
    requests = benchmark["requests"]
    if not requests["successful"]:
        errors = {str(r["info"].get("error"))[:300] for r in requests.get("errored") or []}
        raise SystemExit(f"guidellm: no request succeeded ({out / 'report.json'}): {'; '.join(sorted(errors))}")
    return report, sampler.between(benchmark["start_time"], benchmark["end_time"])


def run_mdeploy_level(args, out: Path) -> dict:
    return run_mdeploy(
        url=args.url,
        model=args.model,
        concurrency=args.concurrency,
        requests=args.requests,
        output_len=args.output_len,
        prompt=["--dataset", str(args.prompts)],
        out=out,
        prefix=args.client_prefix,
        ignore_eos=args.ignore_eos,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_locally(args, work: Path):
    port = free_port()
    if args.server == "fake":
        script = ["benchmarks/fake_openai_server.py", "--token-delay", str(args.token_delay)]
    else:
        script = ["benchmarks/sse_stream_server.py", "--step", str(args.token_delay)]
        if args.breakdown:
            args.server_log = work / "server-requests.jsonl"
            script += ["--log", str(args.server_log)]
    command = [*args.server_prefix, sys.executable, str(REPO / script[0]), *script[1:], "--port", str(port)]
    args.url = f"http://127.0.0.1:{port}"
    return start_server(command, f"{args.url}/health", work / "server.log", timeout=60)


# --- TTFT split at the server (--breakdown) ---


def new_log_entries(log: Path, offset: int) -> tuple[list[dict], int]:
    """The server log's lines (sse_stream_server.py --log) written after `offset` bytes, and the new offset."""
    data = log.read_bytes()[offset:] if log.exists() else b""
    return [json.loads(line) for line in data.splitlines() if line.strip()], offset + len(data)


def ttft_split(client: list[tuple[float, float]], server: list[dict]) -> tuple[float, float, float]:
    """Mean ms from the client's start stamp to the request's arrival, from arrival to the first
    token's write, and from the write to the client's first-token stamp, over one run.

    `client` is each request's (start, first token) and `server` its log lines, all time.time().
    A mean of differences is the difference of the means, so the requests need no pairing, only
    to be the same set: the counts must match.
    """
    if len(client) != len(server) or not client:
        raise SystemExit(f"the server logged {len(server)} requests for the client's {len(client)}")
    starts, firsts = mean([c[0] for c in client]), mean([c[1] for c in client])
    arrivals, writes = mean([e["arrival"] for e in server]), mean([e["first_token"] for e in server])
    return (arrivals - starts) * 1000, (writes - arrivals) * 1000, (firsts - writes) * 1000


def client_stamps(name: str, outcome: dict) -> list[tuple[float, float]]:
    """(start, first token) of each successful request, Unix seconds, as the tool stamped them."""
    if name == "guidellm":
        return [(start, first) for start, first, _, _, _ in guidellm_requests(outcome)]
    began = outcome["started_at"]
    return [(began + start, began + first) for start, first, _, _, _ in mdeploy_requests(outcome)]


def print_breakdown(splits: dict[str, list[tuple[float, float, float]]]) -> None:
    print("TTFT split at the server (means, ms)     mdeploy   guidellm")
    labels = ("client start -> request arrived", "arrived -> first token written", "written -> client's stamp")
    for index, label in enumerate(labels):
        mine, theirs = (mean([split[index] for split in splits[name]]) for name in ("mdeploy", "guidellm"))
        print(f"  {label:<38} {mine:>8.2f} {theirs:>10.2f}")


# Rows whose definition is the one vLLM's /metrics histograms use for the same figure.
SERVER_ROWS = {
    "TTFT mean (ms)": "TTFT mean (ms)",
    "(last-first)/(n-1) mean (ms)": "TPOT mean (ms)",
    "start->last token mean (ms)": "E2E mean (ms)",  # vLLM's ends at the last token's output
}


def print_server_ratios(levels: list[dict], reports: list[dict], server: dict[str, list]) -> None:
    """Each tool's figure over the server's own for the same requests (drift between runs cancels)."""
    print("   each client / the server's own figure for the same requests (vLLM's /metrics histograms):")
    specs = {label: (mine, theirs) for label, mine, theirs in ROWS}
    for label, histogram in SERVER_ROWS.items():
        mine_spec, theirs_spec = specs[label]
        mine = [mdeploy_figure(level, mine_spec) / s[histogram] for level, s in zip(levels, server["mdeploy"])]
        theirs = [guidellm_figure(report, theirs_spec) / s[histogram] for report, s in zip(reports, server["guidellm"])]
        print(
            f"     {label:<30} mdeploy {mean(mine):.3f}   guidellm {mean(theirs):.3f}   (per round: mdeploy "
            f"{' '.join(f'{v:.3f}' for v in mine)}; guidellm {' '.join(f'{v:.3f}' for v in theirs)})"
        )


def compare(args, work: Path) -> int:
    levels, reports, cpu = [], [], {"mdeploy": [], "guidellm": []}
    splits: dict[str, list[tuple[float, float, float]]] = {"mdeploy": [], "guidellm": []}
    offset = 0
    server: dict[str, list[dict[str, float] | None]] = {"mdeploy": [], "guidellm": []}  # a vLLM server's own
    for round_ in range(args.rounds):
        # guidellm first in round 0 (mdeploy sends its prompts), then alternating, so that drift
        # in the machine's load hits both.
        order = ("guidellm", "mdeploy") if round_ % 2 == 0 else ("mdeploy", "guidellm")
        for name in order:
            before = server_histograms(args.url)
            if name == "guidellm":
                report, seconds = run_guidellm(args, work / f"guidellm-{round_}")
                reports.append(report)
                cpu[name].append(seconds / sum(n for *_, n in guidellm_requests(report)) * 1e6)
                if args.prompts is None:
                    args.prompts = work / "prompts.jsonl"
                    lines = [json.dumps({"prompt": prompt}) for prompt in guidellm_prompts(reports[0])]
                    args.prompts.write_text("\n".join(lines) + "\n")
                outcome = report
            else:
                levels.append(run_mdeploy_level(args, work / f"mdeploy-{round_}"))
                cpu[name].append(levels[-1]["client_cpu_us_per_token"])
                outcome = levels[-1]
            server[name].append(server_means(before, server_histograms(args.url)))
            if args.server_log is not None:
                logged, offset = new_log_entries(args.server_log, offset)
                splits[name].append(ttft_split(client_stamps(name, outcome), logged))
    truth = true_figures(args)
    print(
        f"server {args.url} ({args.server if not args.given_url else 'given'}), model {args.model}: concurrency "
        f"{args.concurrency}, {args.requests} requests of {args.output_len} tokens"
        f"{' (ignore_eos)' if args.ignore_eos else ' at most (no ignore_eos)'}, "
        f"guidellm's prompts of {args.input_len} tokens for both, {args.rounds} round(s)"
    )
    rows = table_rows(levels, reports, truth)
    rows.append(("client CPU µs/token", mean(cpu["mdeploy"]), mean(cpu["guidellm"]), None))
    print_table("guidellm", rows, extra="true" if truth else None)
    print("   * computed here from that tool's per-request records (it reports no such figure)")
    print(
        "   CPU: mdeploy's process in its load phase (its report); guidellm's whole process tree, sampled "
        "every 50 ms from /proc and read off between its load phase's start and end"
    )
    if args.server_log is not None:
        print_breakdown(splits)
    if all(means for name in server for means in server[name]):
        print_server_ratios(levels, reports, server)
    itl = mean([level["itl"]["p50"] * 1000 for level in levels])
    print(f"   mdeploy ITL p50 (pooled gaps): {itl:.2f} ms; guidellm keeps no per-token times, so no counterpart")
    # How late mdeploy came to its sockets (kernel receive stamp to read); guidellm stamps at the read.
    lags = [(level.get("client_read_lag") or {}).get("p99") for level in levels]
    if all(lag is not None for lag in lags):
        print(f"   mdeploy's reads' lag p99 {max(lags) * 1000:.2f} ms (guidellm's stamps include its own)")
    sent = [r["prompt_tokens"] for level in levels for r in level["records"] if r["prompt_tokens"]]
    gl_sent = [
        request["prompt_tokens"]
        for report in reports
        for request in report["benchmarks"][0]["requests"]["successful"]
        if request["prompt_tokens"]
    ]
    if sent and gl_sent:
        print(f"   prompt tokens (server's count): mdeploy {mean(sent):.1f}, guidellm {mean(gl_sent):.1f}")
    print(
        f"   load average after the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        + ("; server on CPU 0, clients on CPU 1" if args.pin else "")
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server's base URL, without /v1 (default: start one here)")
    parser.add_argument("--model", help=f"model name the server answers to (default with a local server: {FAKE_MODEL})")
    parser.add_argument("--server", choices=("fake", "sse"), default="fake", help="the local server (default: fake)")
    parser.add_argument("--token-delay", type=float, default=0.01, help="local server's seconds per token (0.01)")
    parser.add_argument("--tokenizer", help="tokenizer folder for guidellm's prompts (default: the tiny model's)")
    parser.add_argument("--guidellm", help="the guidellm executable (default: on PATH, then /tmp/glvenv)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=64, help="requests per run (default: 64)")
    parser.add_argument("--input-len", type=int, default=16)
    parser.add_argument("--output-len", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each client (default: 2)")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    parser.add_argument(
        "--no-ignore-eos",
        dest="ignore_eos",
        action="store_false",
        help="send max tokens without ignore_eos (transformers serve refuses the field): lengths may then differ",
    )
    parser.add_argument("--pin", action="store_true", help="the server on CPU 0, each client on CPU 1 (taskset)")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="split each tool's TTFT at the server: the way there, the server's delay, the way back "
        "(the local sse server logs each request's arrival and first token; implies --server sse)",
    )
    args = parser.parse_args()
    if args.breakdown and args.url:
        parser.error("--breakdown needs the local server it starts (it logs the requests), not --url")
    if args.breakdown:
        args.server = "sse"
    args.server_log = None
    args.guidellm = find_guidellm(args.guidellm)
    if args.guidellm is None:
        print("guidellm is not installed (not on PATH, nor /tmp/glvenv); see docs/bench.md", file=sys.stderr)
        return 2
    if args.quick:
        args.requests, args.concurrency, args.output_len, args.rounds = 16, 4, 32, 1
    if args.url and not args.model:
        parser.error("--model is needed with --url")
    args.model = args.model or FAKE_MODEL
    args.server_prefix = ["taskset", "-c", "0"] if args.pin else []
    args.client_prefix = ["taskset", "-c", "1"] if args.pin else []
    args.given_url, args.prompts = bool(args.url), None
    work = Path(tempfile.mkdtemp(prefix="bench_vs_guidellm-"))
    if not args.tokenizer:
        args.tokenizer = str(work / "tiny-model")
        run_checked(
            [sys.executable, "-m", "engine.local.tiny_model", args.tokenizer], dict(os.environ, PYTHONPATH=str(REPO))
        )
    server = None if args.url else serve_locally(args, work)
    args.url = args.url.rstrip("/").removesuffix("/v1")
    try:
        return compare(args, work)
    finally:
        if server is not None:
            stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
