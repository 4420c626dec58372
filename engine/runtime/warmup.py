"""The warm-up requests a server gets once it is ready, before it takes traffic: shared by the
server container (engine/modal_backend/server_runtime.py) and `mdeploy serve`, so both send the
same requests and judge them by the same rule.

Standard library only (urllib): it runs inside every server container. Each of `requests` requests
must answer `status` (any 2xx when None); a request that fails or answers another status is a
`WarmupFailed`, unless the warm-up is not `fatal`: then it is logged and the rest still go.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Protocol


class WarmupSpec(Protocol):
    """What is read of a Blueprint's WarmupSpec (runtime imports nothing of the Blueprint's)."""

    # Read-only properties: a frozen dataclass (the Blueprint's) provides them.
    @property
    def path(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def requests(self) -> int: ...
    @property
    def method(self) -> str: ...
    @property
    def status(self) -> int | None: ...
    @property
    def fatal(self) -> bool: ...


class WarmupFailed(Exception):
    """A fatal warm-up request failed; the message says which and how."""


def send(method: str, url: str, body: str | None, *, timeout_s: float) -> tuple[int, str]:
    """(status, start of the answer) of one request; an OSError when no answer came."""
    data = body.encode("utf-8") if body else None
    headers = {"Content-Type": "application/json"} if data is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            return response.status, response.read(500).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        try:
            text = exc.read(500).decode("utf-8", "replace")
        except OSError:
            text = str(exc.reason)
        return exc.code, text.strip() or str(exc.reason)


def expected(warmup: WarmupSpec, status: int) -> bool:
    return status == warmup.status if warmup.status is not None else 200 <= status < 300


def warm_up(base_url: str, warmup: WarmupSpec, *, timeout_s: float, log: Callable[[str], None]) -> int:
    """Send the warm-up requests one after another; how many answered as expected."""
    url = base_url + warmup.path
    want = str(warmup.status) if warmup.status is not None else "a 2xx status"
    good = 0
    for number in range(1, warmup.requests + 1):
        try:
            status, text = send(warmup.method, url, warmup.body or None, timeout_s=timeout_s)
            problem = None if expected(warmup, status) else f"answered {status}, not {want}: {text[:300]}"
        except (urllib.error.URLError, OSError) as exc:
            problem = f"failed: {exc}"
        if problem is None:
            good += 1
            continue
        message = f"warm-up request {number}/{warmup.requests} {warmup.method} {url} {problem}"
        if warmup.fatal:
            raise WarmupFailed(message)
        log(f"mdeploy: {message} (warmup.fatal is false: serving anyway)")
    log(f"mdeploy: warm-up done: {good}/{warmup.requests} × {warmup.method} {warmup.path} as expected")
    return good
