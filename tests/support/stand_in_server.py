"""A stand-in for text-embeddings-inference's router, for tests: takes its flags (`--port`,
`--hostname`, `--model-id`, `--revision`), answers GET /health and POST /embed, and appends each
request ("METHOD /path") to the file $STAND_IN_LOG names, if set. So the shipped
manifests/embeddings-tei.yaml runs with only its executable replaced.

`--health-status N` makes /health answer N; `--embed-status N` makes /embed answer N."""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--hostname", default="127.0.0.1")
    parser.add_argument("--model-id")
    parser.add_argument("--revision")
    parser.add_argument("--health-status", type=int, default=200)
    parser.add_argument("--embed-status", type=int, default=200)
    args = parser.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):  # quiet
            pass

        def _reply(self, status: int, payload: object) -> None:
            if os.environ.get("STAND_IN_LOG"):
                with open(os.environ["STAND_IN_LOG"], "a", encoding="utf-8") as log:
                    log.write(f"{self.command} {self.path}\n")
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/health":
                self._reply(args.health_status, {})
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path == "/embed":
                inputs = body.get("inputs", "")
                count = len(inputs) if isinstance(inputs, list) else 1
                self._reply(args.embed_status, [[0.1, 0.2, 0.3]] * count)
            else:
                self._reply(404, {"error": "not found"})

    server = ThreadingHTTPServer((args.hostname, args.port), Handler)
    print(f"stand-in server listening on {args.hostname}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
