"""The load generator's CPU per streamed token, against a local server that streams like vLLM.

`mdeploy bench` must cost little CPU per token: on a machine it shares with the server it
measures, its CPU is taken from the server, and a client late to its socket stamps tokens late.
This starts benchmarks/sse_stream_server.py (a batched-decode pace: every --step seconds each
stream gets a token, one write per event, as vLLM writes them; or --burst N events per write),
runs the client's real path (`engine.bench.load.run_level`, with the collector paused as
`mdeploy bench` runs it) in a process of its own, and prints the client's process CPU time
(user + system, `time.process_time`) over the load phase, per token chunk received.

`--baseline REV` runs the same load with the generator as it was at git revision REV (its
engine/ checked out into a temporary folder), alternately, and prints the ratio. Where `vllm` is
installed (on PATH, or --vllm EXE), it also runs `vllm bench serve` against the same server the same way as
bench_vs_vllm.py does (its benchmark coroutine timed in CPU) and prints its figure and the ratio;
without vllm that row is skipped with a note. (vLLM's random prompts need a tokenizer: --tokenizer,
default gpt2, which must be in the local Hugging Face cache offline.)

`--url URL` measures against a server already running instead (a real vLLM, say), with the model
it lists first (or --model) and, for `vllm bench serve`, that model's tokenizer. The bare loop's
row is then the floor on that server's write pattern: what one read per arriving write costs on
this machine, before any client does any work of its own.

    python benchmarks/bench_client_cpu.py                          # concurrency 16, one token / 5 ms
    python benchmarks/bench_client_cpu.py --baseline bdf1149       # side by side with that revision
    python benchmarks/bench_client_cpu.py --burst 8                # 8 events per write
    python benchmarks/bench_client_cpu.py --quick
    python benchmarks/bench_client_cpu.py --url http://127.0.0.1:8000/v1 --concurrency 8 --tokens 64
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Runs in a child process with PYTHONPATH at the tree under test: one warm-up level, one measured.
CLIENT = """
import gc, json, sys, time
from engine.bench.load import LoadSpec, run_level
from engine.bench.workload import RequestPlan
url, concurrency, requests, tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
spec = LoadSpec(base_url=url, model=sys.argv[5], ignore_eos=True)
run_level(spec, [RequestPlan("hi", 8)] * concurrency, concurrency=concurrency)
gc.collect(); gc.disable()
run = run_level(spec, [RequestPlan("hi", tokens)] * requests, concurrency=concurrency)
gc.enable()
ok = sum(1 for r in run.results if r.error is None)
chunks = sum(len(r.token_times) for r in run.results)
gaps = [b - a for r in run.results for a, b in zip(r.token_times, r.token_times[1:])]
json.dump({"cpu": run.cpu_seconds, "wall": run.wall_seconds, "chunks": chunks, "ok": ok,
           "same_read": sum(1 for g in gaps if g == 0.0), "gaps": len(gaps)}, sys.stdout)
"""

# The floor: the least any client can do per token on this machine — one epoll, one recv per
# readiness, a count of events, nothing parsed, nothing timed — under the same load.
BARE = """
import json, select, socket, sys, time
host, port = sys.argv[1].split("//")[1].split("/")[0].split(":")
concurrency, requests, tokens = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
messages = [{"role": "user", "content": "hi"}]
body = json.dumps({"model": sys.argv[5], "messages": messages, "max_tokens": tokens, "temperature": 0,
                   "stream": True, "stream_options": {"include_usage": True}, "ignore_eos": True}).encode()
head = b"POST /v1/chat/completions HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\n"
request = head + b"Content-Length: %d\\r\\n\\r\\n%s" % (len(body), body)
poll, buffer, socks, events, left = select.epoll(), bytearray(262144), {}, 0, requests
def start():
    global left
    left -= 1
    sock = socket.create_connection((host, int(port))); sock.setblocking(False)
    sock.send(request); socks[sock.fileno()] = sock; poll.register(sock, select.EPOLLIN)
cpu = time.process_time()
for _ in range(concurrency): start()
while socks:
    for fd, _ in poll.poll():
        n = socks[fd].recv_into(buffer)
        if n == 0 or buffer.startswith(b"HTTP/1.1 ") and not buffer.startswith(b"HTTP/1.1 200"):
            sys.exit(f"the server answered: {bytes(buffer[:min(n, 300)])!r}")  # not a stream: no floor
        events += buffer.count(b"data:", 0, n)
        if buffer[:n].endswith(b"0\\r\\n\\r\\n"):
            poll.unregister(fd); socks.pop(fd).close()
            if left: start()
chunks = events - 3 * requests  # the role, usage and [DONE] events carry no token
json.dump({"cpu": time.process_time() - cpu, "chunks": chunks, "ok": requests, "same_read": 0, "gaps": 0}, sys.stdout)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(step: float, burst: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, str(REPO / "benchmarks" / "sse_stream_server.py"), "--port", str(port)]
    proc = subprocess.Popen(command + ["--step", str(step), "--burst", str(burst)])
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc, f"http://127.0.0.1:{port}/v1"
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise SystemExit("the streaming server did not start") from None
            time.sleep(0.1)


def served_model(url: str) -> str:
    """The first model a running server lists; a clear exit when it does not answer."""
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=10) as response:
            return str(json.load(response)["data"][0]["id"])
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise SystemExit(f"cannot read the served model from {url}/models ({exc}); give --model") from None


def checkout(revision: str) -> Path:
    """REV's engine/ in a temporary folder, to import the generator as it was."""
    folder = Path(tempfile.mkdtemp(prefix="bench-client-baseline-"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "engine"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return folder


def run_client(tree: Path | None, url: str, args) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree or REPO))
    command = [
        sys.executable,
        "-c",
        CLIENT if tree else BARE,
        url,
        str(args.concurrency),
        str(args.requests),
        str(args.tokens),
        args.model,
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"the client failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)
    if result["ok"] != args.requests:
        raise SystemExit(f"only {result['ok']} of {args.requests} requests succeeded: {result}")
    result["us_per_token"] = result["cpu"] / result["chunks"] * 1e6
    return result


VLLM_CLIENT = """
import json, os, sys, time
import vllm.benchmarks.serve as serve
untimed = serve.benchmark
async def timed(*args, **kwargs):
    before = time.process_time()
    result = await untimed(*args, **kwargs)
    with open(os.environ["BENCH_CLIENT_CPU_OUT"], "w") as out:
        json.dump({"cpu": time.process_time() - before}, out)
    return result
serve.benchmark = timed
from vllm.entrypoints.cli.main import main
sys.argv = ["vllm", *sys.argv[1:]]
main()
"""


def run_vllm(vllm: str, url: str, args) -> dict | None:
    python = str(Path(vllm).resolve().parent / "python")
    out = Path(tempfile.mkdtemp(prefix="bench-client-vllm-"))
    command = [python, "-c", VLLM_CLIENT, "bench", "serve", "--backend", "openai-chat"]
    command += ["--base-url", url.removesuffix("/v1"), "--endpoint", "/v1/chat/completions"]
    command += ["--model", args.model, "--tokenizer", args.tokenizer or args.model, "--dataset-name", "random"]
    command += ["--random-input-len", "16", "--random-output-len", str(args.tokens)]
    command += ["--num-prompts", str(args.requests), "--max-concurrency", str(args.concurrency)]
    command += ["--ignore-eos", "--num-warmups", "0", "--disable-tqdm", "--save-result"]
    command += ["--result-dir", str(out), "--result-filename", "result.json"]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=900,
        env=dict(os.environ, BENCH_CLIENT_CPU_OUT=str(out / "cpu.json")),
    )
    if done.returncode != 0:
        print(f"   vllm bench serve failed ({done.returncode}): {done.stderr[-500:]}", file=sys.stderr)
        return None
    cpu = json.loads((out / "cpu.json").read_text())["cpu"]
    tokens = json.loads((out / "result.json").read_text())["total_output_tokens"]
    return {"cpu": cpu, "chunks": tokens, "us_per_token": cpu / tokens * 1e6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--tokens", type=int, default=256, help="tokens per request (default 256)")
    parser.add_argument("--step", type=float, default=0.005, help="server seconds per decode step (default 0.005)")
    parser.add_argument("--burst", type=int, default=1, help="events per server write (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each client (default 3)")
    parser.add_argument("--baseline", metavar="REV", help="also run the generator as it was at git revision REV")
    parser.add_argument("--vllm", metavar="EXE", help="the vllm executable (default: `vllm` on PATH, if any)")
    parser.add_argument("--no-vllm", action="store_true", help="do not run `vllm bench serve` even where installed")
    parser.add_argument(
        "--tokenizer", help="tokenizer for vllm's random prompts (default: gpt2, or the --url server's --model)"
    )
    parser.add_argument("--url", help="measure against this running server (ends in /v1) instead of the synthetic one")
    parser.add_argument("--model", help="the model the --url server serves (default: the one it lists first)")
    parser.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.concurrency, args.requests, args.tokens, args.rounds = 4, 8, 64, 1
    clients: dict[str, object] = {"mdeploy (this tree)": REPO, "bare epoll loop (floor)": None}
    if args.baseline:
        clients[f"mdeploy at {args.baseline}"] = checkout(args.baseline)
    if not args.no_vllm:
        vllm = args.vllm or shutil.which("vllm")
        if vllm:
            clients["vllm bench serve"] = vllm
        else:
            print("vllm is not installed (not on PATH, no --vllm): its row is skipped", file=sys.stderr)
    if args.url:
        server, url = None, args.url.rstrip("/")
        listed = served_model(url)  # first: a server that does not answer is one line, not a client's traceback
        args.model = args.model or listed
    else:
        server, url = start_server(args.step, args.burst)
        args.model, args.tokenizer = "fake-model", args.tokenizer or "gpt2"
    runs: dict[str, list[dict]] = {name: [] for name in clients}
    try:
        for _ in range(args.rounds):
            for name, where in clients.items():  # alternating, so drift in the machine's load hits all
                result = run_vllm(where, url, args) if name == "vllm bench serve" else run_client(where, url, args)
                if result is not None:
                    runs[name].append(result)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    if server is None:
        pace = f"against {url} ({args.model})"
    else:
        pace = f"one token per stream every {args.step * 1000:g} ms" + (
            f", {args.burst} per write" if args.burst > 1 else ""
        )
    print(
        f"{args.requests} streams of {args.tokens} tokens, concurrency {args.concurrency}, {pace}, {args.rounds} round(s)"
    )
    print(f"{'client':<28} {'µs CPU/token':>12} {'(runs)':>22} {'same-read gaps':>15}")
    medians = {}
    for name, results in runs.items():
        if not results:
            continue
        figures = [r["us_per_token"] for r in results]
        medians[name] = statistics.median(figures)
        shared = [r["same_read"] / r["gaps"] for r in results if r.get("gaps")]
        share = f"{statistics.median(shared):.1%}" if shared else "-"
        listed = " ".join(f"{f:.1f}" for f in figures)
        print(f"{name:<28} {medians[name]:>12.1f} {listed:>22} {share:>15}")
    mine = medians["mdeploy (this tree)"]
    for name, figure in medians.items():
        if name != "mdeploy (this tree)":
            print(f"   ratio this tree / {name}: {mine / figure:.3f}x")
    print(f"   load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
