"""Run an inference engine's HTTP server as a child of a Modal container: launch, wait, warm, stop.

Standard library only (urllib for HTTP): this runs inside every server container, and the engine's
image owes us nothing beyond Python. Nothing here knows about Modal: `servers.py` drives an
`EngineLauncher` from `@modal.enter` / `@modal.exit` (importing this module there, so containers
of the app's functions never load it), and the tests drive it against a real local HTTP server.

The child gets its own session (process group), so stopping it stops the workers it spawned too
(vLLM and SGLang fork per-GPU workers; `engine.runtime.process_group`, shared with `mdeploy
serve`). Its output is passed through to the container log and the last lines are kept, so a
server that dies during startup is reported with its own last words.
Secret values (from `SecretArg`) are put on the command line only, never in a message or log line.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from engine.blueprint.model import SecretArg, ServerSpec, WarmupSpec
from engine.runtime.process_group import start_in_new_group, stop_group
from engine.runtime.secret_args import MissingSecretArguments, secret_argv

LOG_TAIL_LINES = 40
POLL_INTERVAL_S = 1.0
HTTP_PROBE_TIMEOUT_S = 5.0
LOCALHOST = "127.0.0.1"
# Engines release GPU memory and flush caches on SIGTERM; give them this long before SIGKILL.
TERMINATE_GRACE_S = 15.0


class ServerStartError(RuntimeError):
    """The server did not become ready; the message says why and shows its last output."""


class ServerProcess:
    def __init__(self, popen: subprocess.Popen, display_command: str):
        self.popen = popen
        self.display_command = display_command  # without secret values
        self.log_tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self.pump: threading.Thread | None = None

    def tail_text(self) -> str:
        if self.pump is not None:
            self.pump.join(timeout=1.0)
        lines = list(self.log_tail)
        return "\n".join(lines) if lines else "(no output)"


def resolve_argv(command: Sequence[str], secret_args: Sequence[SecretArg], environ: Mapping[str, str]) -> list[str]:
    """`command` followed by `flag value` for each secret argument, values read from `environ`."""
    try:
        return [*command, *secret_argv(secret_args, environ)]
    except MissingSecretArguments as exc:
        raise ServerStartError(f"missing environment variables: {exc}; attach the secret that provides them") from None


def display_command(command: Sequence[str], secret_args: Sequence[SecretArg]) -> str:
    shown = list(command) + [part for arg in secret_args for part in (arg.flag, f"${arg.env}")]
    return " ".join(shown)


def launch(argv: Sequence[str], *, shown_as: str, env: Mapping[str, str] | None = None) -> ServerProcess:
    try:
        popen = start_in_new_group(argv, env=env, text=True)
    except OSError as exc:
        raise ServerStartError(f"cannot start `{shown_as}`: {exc.strerror or exc}") from None
    process = ServerProcess(popen=popen, display_command=shown_as)
    process.pump = threading.Thread(target=_pump_output, args=(process,), name="server-log", daemon=True)
    process.pump.start()
    return process


def wait_until_ready(
    process: ServerProcess,
    url: str,
    timeout_s: float,
    *,
    interval_s: float = POLL_INTERVAL_S,
    clock: Callable[[], float] = time.monotonic,
) -> float:
    """Poll GET `url` until it answers 2xx; returns the seconds it took. Fails as soon as the
    process exits, or when `timeout_s` has passed."""
    started = clock()
    deadline = started + timeout_s
    while True:
        code = process.popen.poll()
        if code is not None:
            raise ServerStartError(
                f"`{process.display_command}` exited with code {code} before {url} was ready; "
                f"last output:\n{process.tail_text()}"
            )
        if _probe(url):
            return clock() - started
        if clock() >= deadline:
            raise ServerStartError(
                f"{url} not ready after {timeout_s:g}s (`{process.display_command}` still running); "
                f"last output:\n{process.tail_text()}"
            )
        time.sleep(interval_s)


def request(method: str, url: str, body: str | None = None, *, timeout_s: float = 600.0) -> int:
    """One HTTP request; returns the status, raises ServerStartError unless it is 2xx."""
    data = body.encode("utf-8") if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        raise ServerStartError(f"{method} {url} answered {exc.code}: {_error_body(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerStartError(f"{method} {url} failed: {exc}") from None


def warm_up(base_url: str, warmup: WarmupSpec, *, timeout_s: float = 600.0) -> None:
    """Send the warm-up requests one after another (compiles kernels, fills caches)."""
    for _ in range(warmup.requests):
        request("POST", base_url + warmup.path, warmup.body, timeout_s=timeout_s)


def terminate(process: ServerProcess, *, grace_s: float = TERMINATE_GRACE_S) -> int | None:
    """SIGTERM the whole process group, SIGKILL it after `grace_s`; returns the exit code."""
    code = stop_group(process.popen, grace_s)
    if process.pump is not None:
        process.pump.join(timeout=2.0)
    return code


class EngineLauncher:
    """What one server container does with its engine, from a ServerSpec (no Modal here)."""

    def __init__(self, spec: ServerSpec):
        self.spec = spec
        self.base_url = f"http://{LOCALHOST}:{spec.port}"
        self.process: ServerProcess | None = None

    def start(self) -> None:
        spec = self.spec
        argv = resolve_argv(spec.command, spec.secret_args, os.environ)
        shown = display_command(spec.command, spec.secret_args)
        print(f"mdeploy: starting {spec.engine} server {spec.name!r}: {shown}", flush=True)
        self.process = launch(argv, shown_as=shown)
        took = wait_until_ready(self.process, self.base_url + spec.health_path, spec.startup_timeout)
        print(f"mdeploy: {spec.name!r} ready after {took:.1f}s", flush=True)
        if spec.warmup is not None:
            warm_up(self.base_url, spec.warmup, timeout_s=spec.startup_timeout)

    # Sleep and wake POST an empty JSON object: SGLang's memory-occupation endpoints parse a JSON
    # body (and answer 422 without one); vLLM's /sleep and /wake_up ignore it.
    def sleep(self) -> None:
        assert self.spec.snapshot is not None
        url = self.base_url + self.spec.snapshot.sleep_path
        request("POST", url, "{}", timeout_s=self.spec.startup_timeout)

    def wake(self) -> None:
        assert self.spec.snapshot is not None
        url = self.base_url + self.spec.snapshot.wake_path
        request("POST", url, "{}", timeout_s=self.spec.startup_timeout)

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)
            self.process = None


def _probe(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=HTTP_PROBE_TIMEOUT_S) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(500).decode("utf-8", "replace").strip() or exc.reason
    except OSError:
        return str(exc.reason)


def _pump_output(process: ServerProcess) -> None:
    stream = process.popen.stdout
    if stream is None:
        return
    for line in stream:
        process.log_tail.append(line.rstrip("\n"))
        sys.stdout.write(line)
        sys.stdout.flush()
