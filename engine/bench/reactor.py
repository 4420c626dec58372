"""The load generator's event loop: non-blocking sockets on one epoll, timestamps taken at the read.

Why not asyncio and aiohttp (what the generator used before, and what `vllm bench serve` uses):
against a real server each token arrives on its own, so the client pays its whole per-read path
once per token. Through aiohttp that path is asyncio's selector and handle machinery, a 256 KiB
buffer allocated per read (large enough to be mmap'd and unmapped every time), aiohttp's parser
and StreamReader, a future, a task wake-up and an `async for` step per line: 70–170 µs of CPU per
token against vLLM on a small machine. And the timestamp was taken only when the task ran, so
tokens that arrived apart while the loop was busy were stamped together, microseconds apart
(the "delivery bursts"). Here a read is `recv_into` a buffer allocated once, the time is taken
right after it, and the bytes go straight to the response parser and the stream observer.
docs/bench.md has the measurements.

A token's time is that of the read that brought the end of its event: where the kernel stamps
received bytes (SO_TIMESTAMPNS, plain TCP on Linux), the time the last byte of the read reached
this machine, else the time the read returned. The kernel keeps one stamp per read (it merges
queued segments and keeps the latest stamp), so events that one read brings share it. Each
read's lag — how long its last byte waited in the socket before this loop read it — is kept, so
a report can tell a server that delivers in bursts (events share a read, no lag) from a client
that came late to its sockets (lag).

One request per connection at a time; keep-alive connections are reused, and a request that a
server's idle close cut off before any byte came back is sent once more on a fresh connection,
as HTTP clients do. TLS is the standard library's, driven non-blocking.
"""

from __future__ import annotations

import errno
import heapq
import os
import select
import socket
import ssl
import struct
import time
from collections.abc import Callable

from engine.bench.http import BodySink, Endpoint, HTTPError, ResponseParser

READ_SIZE = 256 * 1024
# SO_TIMESTAMPNS and its control message (socket.h on Linux; Python's socket module lacks them).
_SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")
_ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC.size)
_IN, _OUT = select.EPOLLIN, select.EPOLLOUT
_ERRORS = select.EPOLLERR | select.EPOLLHUP

# on_done(parser, error): the exchange's response as far as it arrived, and why it failed (None: it did not).
Done = Callable[[ResponseParser, str | None], None]


def _keep_kernel_stamping() -> socket.socket | None:
    """A socket that asks for receive stamps and lives as long as the reactor.

    Linux stamps received packets only while some socket wants stamps, and it switches that on
    (and off, when the last such socket closes) from a deferred work item, not at the setsockopt:
    a connection opened right after the switch, or after every stamped connection closed, gets
    unstamped reads for a moment. Holding one stamped socket for the run keeps the switch on
    between connections, and turns it on while the first connection is still being made.
    """
    try:
        keeper = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        return None
    try:
        keeper.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        keeper.close()
        return None
    return keeper


class _Exchange:
    __slots__ = ("request", "sent", "parser", "on_done", "deadline", "finished", "retried", "sink")

    def __init__(self, request: bytes, sink: BodySink, on_done: Done, deadline: float):
        self.request = request
        self.sent = 0
        self.sink = sink
        self.parser = ResponseParser(sink)
        self.on_done = on_done
        self.deadline = deadline
        self.finished = False
        self.retried = False


class _Connection:
    __slots__ = ("sock", "fd", "state", "exchange", "reused", "stamped")

    def __init__(self, sock: socket.socket, stamped: bool):
        self.sock = sock
        self.fd = sock.fileno()
        self.state = "connecting"  # -> "handshake" (TLS) -> "ready"
        self.exchange: _Exchange | None = None
        self.reused = False
        self.stamped = stamped  # the kernel stamps its received bytes


class Reactor:
    def __init__(self, endpoint: Endpoint, timeout: float):
        self.endpoint = endpoint
        self.timeout = timeout
        try:
            family, kind, proto, _, address = socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)[
                0
            ]
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {endpoint.host}: {exc.strerror}") from None
        self._family, self._address = family, address
        self._tls = ssl.create_default_context() if endpoint.tls else None
        self._epoll = select.epoll()
        self._connections: dict[int, _Connection] = {}
        self._idle: list[_Connection] = []
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = 0
        self._buffer = bytearray(READ_SIZE)
        self._buffers = [self._buffer]
        self._view = memoryview(self._buffer)
        # Per read: seconds its last byte waited in the kernel before it was read (stamped reads only).
        self.read_lags: list[float] = []
        self._stamp_keeper = _keep_kernel_stamping() if self._tls is None else None

    # the driver's side
    def submit(self, request: bytes, sink: BodySink, on_done: Done) -> None:
        exchange = _Exchange(request, sink, on_done, time.perf_counter() + self.timeout)
        self.call_at(exchange.deadline, lambda: self._expire(exchange))
        self._start(exchange)

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        self._sequence += 1
        heapq.heappush(self._timers, (when, self._sequence, callback))

    def run(self, finished: Callable[[], bool]) -> None:
        """Serve sockets and timers until `finished()` is true."""
        poll, connections, timers, clock = self._epoll.poll, self._connections, self._timers, time.perf_counter
        while not finished():
            wait = -1.0
            if timers:
                wait = max(timers[0][0] - clock(), 0.0)
            for fd, events in poll(wait):
                connection = connections.get(fd)
                if connection is None:
                    continue
                if connection.state == "ready" and events & _IN:
                    self._read(connection)
                else:
                    self._advance(connection, events)
            while timers and timers[0][0] <= clock():
                heapq.heappop(timers)[2]()

    def close(self) -> None:
        for connection in list(self._connections.values()):
            self._drop(connection)
        if self._stamp_keeper is not None:
            self._stamp_keeper.close()
        self._epoll.close()

    # connections
    def _start(self, exchange: _Exchange) -> None:
        while self._idle:
            connection = self._idle.pop()
            if self._connections.get(connection.fd) is connection:
                connection.reused = True
                connection.exchange = exchange
                self._send(connection)
                return
        sock = socket.socket(self._family, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stamped = False
        if self._tls is None:  # an SSL socket has no recvmsg: TLS reads are stamped when they return
            try:
                sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
                stamped = True
            except OSError:
                pass
        code = sock.connect_ex(self._address)
        connection = _Connection(sock, stamped)
        connection.exchange = exchange
        self._connections[connection.fd] = connection
        self._epoll.register(connection.fd, _OUT)
        if code not in (0, errno.EINPROGRESS):
            self._fail(connection, _os_error(code))

    def _advance(self, connection: _Connection, events: int) -> None:
        """Connecting, TLS handshake, sending, and readiness while idle."""
        try:
            if connection.state == "connecting":
                code = connection.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    self._fail(connection, _os_error(code))
                    return
                if self._tls is None:
                    connection.state = "ready"
                else:
                    connection.sock = self._tls.wrap_socket(
                        connection.sock, server_hostname=self.endpoint.host, do_handshake_on_connect=False
                    )
                    connection.state = "handshake"
            if connection.state == "handshake":
                sock = connection.sock
                assert isinstance(sock, ssl.SSLSocket), "a handshake follows wrap_socket"
                try:
                    sock.do_handshake()
                except ssl.SSLWantReadError:
                    self._epoll.modify(connection.fd, _IN)
                    return
                except ssl.SSLWantWriteError:
                    self._epoll.modify(connection.fd, _OUT)
                    return
                connection.state = "ready"
                self._send(connection)
                return
            if connection.exchange is None:  # an idle connection became readable: the server closed it
                self._drop(connection)
                return
            if events & _ERRORS and not events & _IN:
                self._fail(connection, "the connection failed")
                return
            self._send(connection)
        except (OSError, ssl.SSLError) as exc:
            self._fail(connection, _describe(exc))

    def _send(self, connection: _Connection) -> None:
        exchange = connection.exchange
        if exchange is None:  # it timed out or failed, which dropped this connection: nothing to send
            return
        try:
            while exchange.sent < len(exchange.request):
                exchange.sent += connection.sock.send(exchange.request[exchange.sent :])
        except (BlockingIOError, ssl.SSLWantWriteError):
            self._epoll.modify(connection.fd, _OUT)
            return
        except ssl.SSLWantReadError:
            self._epoll.modify(connection.fd, _IN)
            return
        except (OSError, ssl.SSLError) as exc:
            self._fail(connection, _describe(exc))
            return
        self._epoll.modify(connection.fd, _IN)

    def _read(self, connection: _Connection) -> None:
        """The hot path: one read, one timestamp, straight into the parser."""
        exchange = connection.exchange
        sock = connection.sock
        try:
            while True:
                if connection.stamped:
                    count, ancillary, _, _ = sock.recvmsg_into(self._buffers, _ANCILLARY_SIZE)
                    now = time.perf_counter()
                    if ancillary:
                        # The kernel's stamp is wall-clock time: only its age is used, taken against
                        # the wall clock read now, so the monotonic timeline never mixes the two.
                        seconds, nanoseconds = _TIMESPEC.unpack_from(ancillary[0][2])
                        lag = time.time() - seconds - nanoseconds * 1e-9
                        if 0.0 <= lag < 60.0:  # outside: a wall-clock step; keep the read's own time
                            now -= lag
                            self.read_lags.append(lag)
                else:
                    count = sock.recv_into(self._buffer)
                    now = time.perf_counter()
                if exchange is None:  # bytes or a close on an idle connection: it cannot be reused
                    self._drop(connection)
                    return
                if count == 0:
                    exchange.parser.connection_closed()
                    connection.exchange = None
                    self._drop(connection)
                    self._finish(exchange, None)
                    return
                exchange.parser.feed(self._view[:count].tobytes(), now)
                if exchange.parser.complete:
                    connection.exchange = None
                    if exchange.parser.keep_alive:
                        self._idle.append(connection)
                    else:
                        self._drop(connection)
                    self._finish(exchange, None)
                    return
                # TLS may hold decrypted bytes that epoll does not report: read those now.
                if not isinstance(sock, ssl.SSLSocket) or not sock.pending():
                    return
        except (BlockingIOError, ssl.SSLWantReadError):
            return
        except HTTPError as exc:
            self._fail(connection, str(exc))
        except (OSError, ssl.SSLError) as exc:
            self._fail(connection, _describe(exc))

    def _fail(self, connection: _Connection, reason: str) -> None:
        exchange = connection.exchange
        connection.exchange = None
        self._drop(connection)
        if exchange is None or exchange.finished:
            return
        if connection.reused and not exchange.parser.received_any and not exchange.retried:
            # A kept-alive connection the server closed while idle: send once more, on a fresh one.
            retry = _Exchange(exchange.request, exchange.sink, exchange.on_done, exchange.deadline)
            retry.retried = True
            exchange.finished = True
            self.call_at(retry.deadline, lambda: self._expire(retry))
            self._start(retry)
            return
        self._finish(exchange, reason)

    def _expire(self, exchange: _Exchange) -> None:
        if exchange.finished:
            return
        for connection in self._connections.values():
            if connection.exchange is exchange:
                connection.exchange = None
                self._drop(connection)
                break
        self._finish(exchange, f"timed out after {self.timeout:g}s")

    def _finish(self, exchange: _Exchange, error: str | None) -> None:
        if exchange.finished:
            return
        exchange.finished = True
        exchange.on_done(exchange.parser, error)

    def _drop(self, connection: _Connection) -> None:
        if self._connections.pop(connection.fd, None) is None:
            return
        try:
            self._epoll.unregister(connection.fd)
        except OSError:
            pass
        connection.sock.close()


def _os_error(code: int) -> str:
    name = {errno.ECONNREFUSED: "ConnectionRefusedError"}.get(code, "OSError")
    return f"{name}: [Errno {code}] {os.strerror(code)}"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
