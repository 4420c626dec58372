"""Run as a script: a stand-in inference engine for the server-runtime tests.

`fake_engine.py PORT LOG [READY_AFTER_S] [--api-key KEY]`: serves GET /health (503 until
READY_AFTER_S have passed), and answers any POST with 200 when its body is JSON, 422 otherwise
(as SGLang's endpoints do). Every request is appended to LOG as
"METHOD PATH" so a test can check what the container sent, in order.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
READY_AFTER = float(sys.argv[3]) if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else 0.0
STARTED = time.monotonic()


class Handler(BaseHTTPRequestHandler):
    def _record(self) -> None:
        with open(LOG, "a") as log:
            log.write(f"{self.command} {self.path}\n")

    def do_GET(self) -> None:  # noqa: N802
        self._record()
        ready = time.monotonic() - STARTED >= READY_AFTER
        self.send_response(200 if ready else 503)
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self._record()
        try:
            json.loads(body)
        except ValueError:
            self.send_response(422)
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


print(f"fake engine listening on {PORT} with args {sys.argv[3:]}", flush=True)
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
