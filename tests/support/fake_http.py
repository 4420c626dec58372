"""Local HTTP servers standing in for a deployed LLM server or web app in smoke-check tests.

`FakeEndpoint(behaviour)` listens on 127.0.0.1 in a thread and records every request (method,
path, headers, body). Behaviours: "llm" (GET /health 200, POST /v1/chat/completions with a
`choices` list), "web" (GET / 200), "broken" (500 everywhere), "no-choices" (the chat reply lacks
`choices`); `require` adds headers a request must carry, else 401, like Modal's proxy.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeEndpoint:
    def __init__(self, behaviour: str = "llm", require: dict[str, str] | None = None):
        self.behaviour = behaviour
        self.require = require or {}
        self.requests: list[dict] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                endpoint.requests.append(
                    {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
                )
                status, payload = endpoint._reply(self.command, self.path, dict(self.headers))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _reply(self, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict]:
        if any(headers.get(k) != v for k, v in self.require.items()):
            return 401, {"error": "modal-http: missing credentials for proxy authorization"}
        if self.behaviour == "broken":
            return 500, {"error": "boom"}
        if self.behaviour == "web":
            return (200, {"ok": True}) if method == "GET" and path == "/" else (404, {})
        if method == "GET" and path == "/health":
            return 200, {}
        if method == "POST" and path == "/v1/chat/completions":
            if self.behaviour == "no-choices":
                return 200, {"object": "chat.completion"}
            return 200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": "OK"}}]}
        return 404, {}

    def __enter__(self) -> FakeEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
