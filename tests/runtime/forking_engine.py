"""Run as a script: a stand-in engine that leaves the processes a real one does, and worse.

    forking_engine.py --pids FILE [--host H] [--port P] [--exit-before-ready CODE] [--obedient]

Before it serves GET /health (200) on H:P it forks:
- `worker`: a plain worker in the engine's process group (a tokenizer pool, a uvicorn worker);
- `stubborn`: a worker that ignores SIGTERM (a GPU worker stuck in a kernel launch);
- `session`: a worker that starts its own session, so no signal to the engine's group reaches it;
- `daemon`: a double fork: an intermediate child forks a grandchild and exits at once, so the
  grandchild is an orphan from the start; it starts its own session and ignores SIGTERM;
- `nested`: a child of the stubborn worker, two levels down.
When all are running it writes their pids as JSON to FILE (atomically) and prints `forked`. With
`--exit-before-ready` it prints two lines of "loading" output and exits with CODE instead of
serving, leaving its workers behind, as an engine that dies of CUDA OOM during start-up does.
With `--obedient` no process ignores SIGTERM (for runs whose stop grace is not short).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

IGNORE_TERM = "--obedient" not in sys.argv


def _sleep_forever(*, ignore_term: bool = False, new_session: bool = False) -> None:
    if new_session:
        os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore_term and IGNORE_TERM else signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    while True:
        signal.pause()


def _fork(body) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            body()
        finally:
            os._exit(0)
    return pid


def _daemon(report_w: int) -> None:
    grandchild = _fork(lambda: _sleep_forever(ignore_term=True, new_session=True))
    os.write(report_w, f"daemon {grandchild}\n".encode())
    # Exit at once: the grandchild is orphaned before anyone could stop the engine.


def _stubborn(report_w: int) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN if IGNORE_TERM else signal.SIG_DFL)
    nested = _fork(_sleep_forever)
    os.write(report_w, f"nested {nested}\n".encode())
    _sleep_forever(ignore_term=True)


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pids", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--exit-before-ready", type=int)
    parser.add_argument("--obedient", action="store_true")
    args = parser.parse_args()

    report_r, report_w = os.pipe()
    pids = {"engine": os.getpid()}
    pids["worker"] = _fork(_sleep_forever)
    pids["stubborn"] = _fork(lambda: _stubborn(report_w))
    pids["session"] = _fork(lambda: _sleep_forever(new_session=True))
    intermediate = _fork(lambda: _daemon(report_w))
    os.close(report_w)
    with os.fdopen(report_r) as reports:
        for _ in range(2):  # "nested PID" and "daemon PID", in either order
            name, pid = reports.readline().split()
            pids[name] = int(pid)
    os.waitpid(intermediate, 0)

    partial = args.pids + ".partial"
    with open(partial, "w") as out:
        json.dump(pids, out)
    os.replace(partial, args.pids)
    print("forked", flush=True)

    if args.exit_before_ready is not None:
        print("loading weights", flush=True)
        print("CUDA out of memory", flush=True)
        sys.exit(args.exit_before_ready)
    HTTPServer((args.host, args.port), _Health).serve_forever()


if __name__ == "__main__":
    main()
