"""Is a local port free? Checked before starting an engine, so the user gets one clear line
instead of an engine's bind traceback after a minute of model loading."""

from __future__ import annotations

import errno
import socket

from engine.errors import UserError

MAX_PORT = 65535


def ensure_port_free(host: str, port: int) -> None:
    if not 1 <= port <= MAX_PORT:
        raise UserError(f"port {port} is not a TCP port: pass --port between 1 and {MAX_PORT}")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Without SO_REUSEADDR, as the engine's own server will bind, minus TIME_WAIT leftovers.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    f"port {port} on {host} is already in use: stop what listens there or pass --port"
                ) from None
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS considers free right now (for tests and `bench MANIFEST:SERVICE`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]  # (host, port) for AF_INET
        return port
