"""A light streaming server shaped like vLLM's, for measuring a client's own cost per token.

It answers POST .../chat/completions (HTTP/1.1, keep-alive, chunked) with vLLM's event shapes:
a role chunk, `max_tokens` token chunks, the last with its finish reason, a usage chunk and
`[DONE]`. Tokens are paced like a batched decoder: every `--step` seconds each stream in flight
gets its next token, one write per event (as vLLM's API server writes them), so a client that
keeps up reads one event at a time. `--burst N` instead writes N events in one write (one TCP
segment), the case where several tokens reach the client in one read. It is asyncio with raw
protocols, so it costs little CPU beside the client it serves (fake_openai_server.py, on aiohttp,
is for the CLI's tests: its misbehaviours, not its cost).

`--log FILE` appends a JSON line per request when its first token is written: the prompt, the
temperature asked, the wall-clock time (`time.time()`) the whole request had arrived, and the time
the first token was written. A client's TTFT can then be split into the way there, the server's own delay and the way
back (benchmarks/bench_vs_guidellm.py --breakdown).

    python benchmarks/sse_stream_server.py --port 8200 --step 0.005 [--burst 8] [--log FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import TextIO

MODEL = "fake-model"
_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
)
_PREFIX = b'{"id":"chatcmpl-7f3a9c2e5b8d4e0f9a1b2c3d4e5f6a7b","object":"chat.completion.chunk","created":1733100000,'
_PREFIX += b'"model":"' + MODEL.encode() + b'",'


def _event(payload: bytes) -> bytes:
    data = b"data: " + payload + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


def _choice(delta: str, finish: str | None) -> bytes:
    finish_json = json.dumps(finish)
    return _PREFIX + (
        b'"choices":[{"index":0,"delta":' + delta.encode() + b',"logprobs":null,"finish_reason":'
        b"" + finish_json.encode() + b"}]}"
    )


ROLE = _event(_choice('{"role":"assistant","content":""}', None))
WORDS = [" the", " cat", " sat", " on", " a", " warm", " mat", ",", " and", " then"]
TOKENS = [_event(_choice(json.dumps({"content": word}, separators=(",", ":")), None)) for word in WORDS]
LAST = _event(_choice('{"content":"."}', "length"))
DONE = _event(b"[DONE]") + b"0\r\n\r\n"


def _usage(tokens: int) -> bytes:
    usage = {"prompt_tokens": 16, "total_tokens": 16 + tokens, "completion_tokens": tokens}
    return _event(_PREFIX + b'"choices":[],"usage":' + json.dumps(usage, separators=(",", ":")).encode() + b"}")


class _Stream:
    __slots__ = ("transport", "left", "total", "logged")

    def __init__(self, transport: asyncio.Transport, tokens: int, logged: dict | None):
        self.transport = transport
        self.left = tokens
        self.total = tokens
        self.logged = logged  # with --log: the request's line, written at its first token


def _prompt_text(request: dict) -> str:
    messages = request.get("messages") or [{}]
    content = messages[-1].get("content") or ""
    return content if isinstance(content, str) else "".join(part.get("text", "") for part in content)


class Server:
    def __init__(self, step: float, burst: int, log: TextIO | None = None):
        self.step = step
        self.burst = burst
        self.log = log
        self.streams: list[_Stream] = []
        self.wake = asyncio.Event()

    def start(self, transport: asyncio.Transport, body: bytes) -> None:
        arrival = time.time()
        try:
            request = json.loads(body)
            tokens = int(request.get("max_tokens") or request.get("max_completion_tokens") or 16)
        except (ValueError, TypeError):
            transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            return
        transport.write(_HEAD + ROLE)
        logged = (
            {"prompt": _prompt_text(request), "temperature": request.get("temperature"), "arrival": arrival}
            if self.log is not None
            else None
        )
        self.streams.append(_Stream(transport, tokens, logged))
        self.wake.set()

    def _log_first_token(self, stream: _Stream, written_at: float) -> None:
        if stream.logged is not None and self.log is not None:
            stream.logged["first_token"] = written_at
            self.log.write(json.dumps(stream.logged) + "\n")
            self.log.flush()
            stream.logged = None

    async def decode(self) -> None:
        """One token per stream per step, like a batched decode loop."""
        loop = asyncio.get_running_loop()
        while True:
            if not self.streams:
                self.wake.clear()
                await self.wake.wait()
            began = loop.time()
            finished = []
            for stream in self.streams:
                if stream.transport.is_closing():
                    finished.append(stream)
                    continue
                take = min(self.burst, stream.left)
                pieces = []
                for _ in range(take):
                    stream.left -= 1
                    done = stream.total - stream.left
                    pieces.append(LAST if stream.left == 0 else TOKENS[done % len(TOKENS)])
                if stream.left == 0:
                    pieces.append(_usage(stream.total) + DONE)
                    finished.append(stream)
                # Stamped before the write: on loopback the client's kernel has the bytes (and
                # stamps them) before write() returns.
                written_at = time.time() if stream.logged is not None else 0.0
                if self.burst == 1:
                    for piece in pieces:  # one write per event, as vLLM's server writes them
                        stream.transport.write(piece)
                else:
                    stream.transport.write(b"".join(pieces))
                self._log_first_token(stream, written_at)
            for stream in finished:
                self.streams.remove(stream)
            await asyncio.sleep(max(self.step - (loop.time() - began), 0.0))


class _Protocol(asyncio.Protocol):
    def __init__(self, server: Server):
        self.server = server
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].decode("latin-1").lower()
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            if head.startswith("get"):
                reply = b'{"status":"ok"}'
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(reply), reply))
            else:
                self.server.start(self.transport, body)


async def serve(host: str, port: int, step: float, burst: int, log: TextIO | None = None) -> None:
    server = Server(step, burst, log)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(lambda: _Protocol(server), host, port)
    async with listener:
        await server.decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--step", type=float, default=0.005, help="seconds per decode step (default 0.005)")
    parser.add_argument("--burst", type=int, default=1, help="events per write (default 1: one per token)")
    parser.add_argument(
        "--log", metavar="FILE", help="append a JSON line per request: prompt, temperature, arrival, first token"
    )
    args = parser.parse_args()
    log = open(args.log, "a") if args.log else None  # noqa: SIM115 - open for the server's whole life
    asyncio.run(serve(args.host, args.port, args.step, args.burst, log))


if __name__ == "__main__":
    main()
