"""What the load generator costs per token, and what its timestamps mean — never by wall time.

Cost is bounded two ways: by the Python calls the real per-read path makes for one token chunk
(exact, the same on any machine), and by process CPU time per token against a local streaming
server, with a margin wide enough for a busy machine. Timestamps: a read's tokens share the
kernel's receive time of the read, and a read's lag is how long its bytes waited for the client.
"""

import importlib.util
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from engine.bench import reactor as reactor_module
from engine.bench.http import Endpoint, ResponseParser, request_bytes
from engine.bench.load import LoadSpec, run_level
from engine.bench.reactor import Reactor
from engine.bench.sse import StreamObserver
from engine.bench.workload import RequestPlan

from .conftest import REPO, free_port

_spec = importlib.util.spec_from_file_location("sse_stream_server", REPO / "benchmarks" / "sse_stream_server.py")
server_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(server_module)
TOKENS = 40


def _vllm_stream(tokens: int = TOKENS) -> list[bytes]:
    """The writes a vLLM-shaped server makes for one stream: head + role, tokens, usage + [DONE]."""
    pieces = [server_module._HEAD + server_module.ROLE]
    pieces += [server_module.TOKENS[i % len(server_module.TOKENS)] for i in range(tokens - 1)]
    pieces.append(server_module.LAST)
    pieces.append(server_module._usage(tokens) + server_module.DONE)
    return pieces


def _observe(pieces: list[bytes]) -> tuple[ResponseParser, StreamObserver]:
    observer = StreamObserver()
    parser = ResponseParser(observer.feed)
    for at, piece in enumerate(pieces):
        parser.feed(piece, float(at))
    return parser, observer


def test_a_stream_reads_the_same_however_its_bytes_are_split():
    whole = b"".join(_vllm_stream())
    _, reference = _observe(_vllm_stream())
    assert len(reference.token_times) == TOKENS and reference.finish_reason == "length" and reference.saw_done
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(whole)), rng.randint(1, 60)))
        pieces = [whole[a:b] for a, b in zip([0, *cuts], [*cuts, len(whole)])]
        parser, observer = _observe(pieces)
        assert parser.complete and observer.error is None
        assert len(observer.token_times) == TOKENS and observer.usage == reference.usage
        assert (observer.finish_reason, observer.saw_done) == ("length", True)


def test_one_event_per_read_costs_a_bounded_number_of_python_calls():
    # The per-token path, read by read as a client that keeps up sees a vLLM stream. Counted with
    # a profiler hook (every Python and C call), so the bound is exact on any machine: today 10
    # calls per token chunk (the general path, all the client had before, takes 17).
    pieces = _vllm_stream(200)
    observer = StreamObserver()
    parser = ResponseParser(observer.feed)
    parser.feed(pieces[0], 0.0)
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(count)
    try:
        for piece in pieces[1:-2]:
            parser.feed(piece, 1.0)
    finally:
        sys.setprofile(None)
    assert len(observer.token_times) == 199
    assert calls / 199 <= 12, calls / 199


@pytest.fixture(scope="module")
def stream_server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "sse_stream_server.py"), "--port", str(port), "--step", "0.002"]
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the streaming server did not start") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/v1"
    proc.terminate()
    proc.wait(timeout=10)


def test_client_cpu_per_token_is_bounded_against_a_streaming_server(stream_server):
    # Process CPU time, not wall time: a slow machine stretches the run, not this figure. Measured
    # here at 15-45 µs per token at this concurrency (docs/bench.md); the bound is tens of times
    # that, to catch a path gone quadratic or a busy loop, never a loaded machine.
    spec = LoadSpec(base_url=stream_server, model="fake-model", ignore_eos=True)
    run = run_level(spec, [RequestPlan("hi", 64)] * 8, concurrency=4)
    assert [r.error for r in run.results] == [None] * 8
    chunks = sum(len(r.token_times) for r in run.results)
    assert chunks == 8 * 64
    assert run.cpu_seconds / chunks < 2e-3, run.cpu_seconds / chunks


def _queued_response() -> bytes:
    return b"".join(_vllm_stream(5))


def _wait_until_the_kernel_stamps_loopback_reads(attempts: int = 200) -> None:
    """Linux turns packet stamping on from deferred work after the first socket asks for it (on a
    fresh machine that can lag the setsockopt): send probes until one read comes back stamped."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.socket()
    client.setsockopt(socket.SOL_SOCKET, reactor_module._SO_TIMESTAMPNS, 1)
    client.connect(listener.getsockname())
    server, _ = listener.accept()
    try:
        for _ in range(attempts):
            server.sendall(b"x")
            _, ancillary, _, _ = client.recvmsg(16, reactor_module._ANCILLARY_SIZE)
            if ancillary:
                return
            time.sleep(0.01)
        pytest.skip(f"this kernel stamped none of {attempts} loopback TCP reads (SO_TIMESTAMPNS unsupported)")
    finally:
        for sock in (server, client, listener):
            sock.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_TIMESTAMPNS is Linux's")
def test_tokens_that_waited_in_the_kernel_are_stamped_when_they_arrived_not_when_read():
    # The whole response reaches the client's socket before its loop runs; the loop then starts
    # late on purpose. The tokens carry the kernel's receive time (before the loop started), all
    # five share it (one read), and the read's lag says how long the bytes waited.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    written = threading.Event()

    def serve():
        conn, _ = listener.accept()
        conn.sendall(_queued_response())  # before any request: the bytes wait in the client's socket
        written.set()
        conn.recv(65536)
        time.sleep(0.5)
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    endpoint = Endpoint.from_url(f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    reactor = Reactor(endpoint, timeout=30)  # its keeper socket holds the kernel's stamping on
    _wait_until_the_kernel_stamps_loopback_reads()
    observer = StreamObserver()
    done = _Done()
    reactor.submit(request_bytes(endpoint, "POST", "/chat/completions", {}, b"{}"), observer.feed, done.append_pair)
    assert written.wait(10)
    time.sleep(0.05)  # the client is late to its socket by at least this much
    loop_started = time.perf_counter()
    try:
        reactor.run(lambda: bool(done))
    finally:
        reactor.close()
        listener.close()
    assert len(observer.token_times) == 5 and len(set(observer.token_times)) == 1
    assert observer.token_times[0] < loop_started
    assert reactor.read_lags and reactor.read_lags[0] >= 0.05


class _Done(list):
    def append_pair(self, parser, error):
        self.append((parser, error))


def test_several_events_in_one_write_share_a_read_and_the_report_says_so():
    # A server that writes 8 events at once (benchmarks/sse_stream_server.py --burst 8).
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "benchmarks" / "sse_stream_server.py"), "--port", str(port), "--burst", "8"]
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        from engine.bench.stats import summarise_level

        spec = LoadSpec(base_url=f"http://127.0.0.1:{port}/v1", model="fake-model", ignore_eos=True)
        run = run_level(spec, [RequestPlan("hi", 32)] * 2, concurrency=2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    summary = summarise_level(2, run.results, run.wall_seconds, read_lags=run.read_lags)
    # 32 tokens in 4 writes of 8: at least 7 of every 8 gaps fall within one write, so one read.
    assert summary.same_read_gaps is not None and summary.same_read_gaps >= 28 / 31 - 1e-9
    if sys.platform.startswith("linux"):  # the kernel stamps reads: their lag is reported
        assert summary.client_read_lag is not None and summary.client_read_lag["min"] >= 0
