"""HTTP/1.1 for the load generator: the request bytes, and a response parser fed as bytes arrive.

Pure (no sockets): engine/bench/reactor.py reads the sockets and feeds `ResponseParser`, which
de-chunks the body and hands each piece to a sink with the time its bytes were read. Only what an
OpenAI-compatible endpoint needs: `Content-Length`, chunked and close-delimited bodies,
keep-alive.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

BodySink = Callable[[bytes, float], None]  # (body bytes, perf_counter when they were read)
MAX_HEAD_BYTES = 64 * 1024
ERROR_BODY_BYTES = 2000


class HTTPError(Exception):
    """The response could not be read as HTTP (a malformed head or chunk, a closed connection)."""


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int
    tls: bool
    base_path: str  # e.g. "/v1"

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urllib.parse.urlsplit(url)
        tls = parts.scheme == "https"
        return cls(parts.hostname or "", parts.port or (443 if tls else 80), tls, parts.path.rstrip("/"))

    @property
    def host_header(self) -> str:
        default = 443 if self.tls else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def request_bytes(endpoint: Endpoint, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {endpoint.base_path}{path} HTTP/1.1", f"Host: {endpoint.host_header}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class ResponseParser:
    """One response: `feed` bytes as they are read; `complete` once the body has ended.

    A 200 body goes to `sink`; any other status keeps the start of its body for the error message.
    """

    __slots__ = (
        "_sink",
        "_buffer",
        "_in_head",
        "status",
        "headers",
        "keep_alive",
        "complete",
        "_length",
        "_chunked",
        "_chunk_left",
        "error_body",
        "received_any",
    )

    def __init__(self, sink: BodySink):
        self._sink = sink
        self._buffer = b""
        self._in_head = True
        self.status = 0
        self.headers: dict[str, str] = {}
        self.keep_alive = False
        self.complete = False
        self.received_any = False
        self.error_body = b""
        self._length: int | None = None  # bytes of body left (Content-Length)
        self._chunked = False
        self._chunk_left = 0  # bytes of this chunk left; -1: the CRLF after a chunk; -2: in the trailers

    def feed(self, data: bytes, now: float) -> None:
        self.received_any = True
        if self._chunked and not self._chunk_left and not self._buffer and self.status == 200:
            # The common read of a stream: exactly one whole chunk (servers write one event per
            # chunk, and a client that keeps up reads one write at a time). Handled here, in one
            # call, because this runs once per token; anything else takes the general path.
            line_end = data.find(b"\r\n", 0, 10)
            if line_end > 0:
                try:
                    size = int(data[:line_end], 16)
                except ValueError:
                    size = 0  # not a plain size line (extensions, garbage): the general path decides
                end = line_end + 2 + size
                if size and len(data) == end + 2 and data[end] == 13 and data[end + 1] == 10:
                    self._sink(data[line_end + 2 : end], now)
                    return
        if self.complete:
            self.keep_alive = False  # bytes past the end of the response: do not reuse the connection
            return
        if self._in_head:
            rest = self._read_head(data)
            if rest is None or self.complete:  # None: the head has not all arrived yet
                return
            data = rest
        if not self._chunked:
            if self._length is not None:
                data = data[: self._length]
                self._length -= len(data)
            if data:
                self._body(data, now)
            if self._length == 0:
                self.complete = True
            return
        self._read_chunked(data, now)

    def connection_closed(self) -> None:
        """The server closed the connection: a close-delimited body ends here; any other is cut short."""
        if self.complete:
            return
        if not self._in_head and self._length is None and not self._chunked:
            self.complete = True
            return
        raise HTTPError("the server closed the connection before the response ended")

    def _body(self, data: bytes, now: float) -> None:
        if self.status == 200:
            self._sink(data, now)
        elif len(self.error_body) < ERROR_BODY_BYTES:
            self.error_body += data[: ERROR_BODY_BYTES - len(self.error_body)]

    def _read_head(self, data: bytes) -> bytes | None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD_BYTES:
                raise HTTPError("the response head is too long")
            return None
        head, rest = self._buffer[:end].decode("latin-1"), self._buffer[end + 4 :]
        self._buffer = b""
        status_line, *lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HTTPError(f"not an HTTP response: {status_line[:80]!r}")
        self.status = int(parts[1])
        for line in lines:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self._in_head = False
        connection = self.headers.get("connection", "").lower()
        self.keep_alive = (parts[0] == "HTTP/1.1" and connection != "close") or connection == "keep-alive"
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            self._chunked = True
        elif "content-length" in self.headers:
            try:
                self._length = int(self.headers["content-length"])
            except ValueError:
                raise HTTPError(f"bad Content-Length: {self.headers['content-length']!r}") from None
            self.complete = self._length == 0
        else:
            self.keep_alive = False  # the body ends when the server closes the connection
        return rest

    def _read_chunked(self, data: bytes, now: float) -> None:
        buffer = self._buffer + data if self._buffer else data
        self._buffer = b""
        position, size = 0, len(buffer)
        pieces = []
        while position < size:
            if self._chunk_left > 0:
                take = min(self._chunk_left, size - position)
                pieces.append(buffer[position : position + take])
                position += take
                self._chunk_left -= take
                if self._chunk_left == 0:
                    self._chunk_left = -1
                continue
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                self._buffer = buffer[position:]
                break
            line = buffer[position:line_end]
            position = line_end + 2
            if self._chunk_left == -2:  # trailers after the last chunk, up to an empty line
                if not line:
                    self.complete = True
                    break
                continue
            if self._chunk_left == -1:  # the CRLF that closes a chunk's data
                if line:
                    raise HTTPError("malformed chunked body")
                self._chunk_left = 0
                continue
            try:
                length = int(line.split(b";", 1)[0], 16)
            except ValueError:
                raise HTTPError(f"malformed chunk size {line[:20]!r}") from None
            self._chunk_left = length if length else -2  # 0: the last chunk, then trailers
        if pieces:
            self._body(pieces[0] if len(pieces) == 1 else b"".join(pieces), now)
