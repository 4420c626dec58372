"""Run a server's process (an inference engine, or a `kind: server` command) in a Modal server
container: launch, wait, warm, stop.

Standard library only (urllib for HTTP): this runs inside every server container, and the engine's
image owes us nothing beyond Python. Nothing here knows about Modal: `servers.py` drives an
`EngineLauncher` from `@modal.enter` / `@modal.exit` (importing this module there, so containers
of the app's functions never load it), and the tests drive it against a real local HTTP server.

The engine runs under `engine.runtime.supervisor`, shared with `mdeploy serve`: its own process
tree (vLLM and SGLang fork per-GPU workers), stopped whole; its output passed through to the
container log, the last lines kept, so a server that dies during startup is reported with its own
last words. What is the container's own: the command with secret arguments, the log on stdout,
the warm-up requests and the snapshot's sleep and wake.
Secret values (from `SecretArg`) are put on the command line only, never in a message or log line.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

from engine.blueprint.model import SecretArg, ServerSpec, WarmupSpec
from engine.runtime.secret_args import MissingSecretArguments, secret_argv
from engine.runtime.supervisor import EngineStartError, Supervisor
from engine.runtime.warmup import WarmupFailed
from engine.runtime.warmup import warm_up as run_warmup

LOCALHOST = "127.0.0.1"


class ServerStartError(EngineStartError):
    """A step of the container's own start failed (a secret argument's variable is missing, a
    warm-up or sleep/wake request failed); the message says why. The supervisor's start and
    readiness failures are EngineStartErrors too."""


def resolve_argv(command: Sequence[str], secret_args: Sequence[SecretArg], environ: Mapping[str, str]) -> list[str]:
    """`command` followed by `flag value` for each secret argument, values read from `environ`."""
    try:
        return [*command, *secret_argv(secret_args, environ)]
    except MissingSecretArguments as exc:
        raise ServerStartError(f"missing environment variables: {exc}; attach the secret that provides them") from None


def cluster_command(spec: ServerSpec, member: tuple[int, str] | None) -> tuple[str, ...]:
    """`spec.command`, and for a member of a cluster its `rank_args` with "{rank}" and "{leader}"
    filled in, then `worker_args` on ranks other than 0."""
    if spec.cluster is None or member is None:
        return tuple(spec.command)
    rank, leader = member
    filled = tuple(arg.replace("{rank}", str(rank)).replace("{leader}", leader) for arg in spec.cluster.rank_args)
    return (*spec.command, *filled, *(spec.cluster.worker_args if rank != 0 else ()))


def display_command(command: Sequence[str], secret_args: Sequence[SecretArg]) -> str:
    shown = list(command) + [part for arg in secret_args for part in (arg.flag, f"${arg.env}")]
    return " ".join(shown)


def request(method: str, url: str, body: str | None = None, *, timeout_s: float = 600.0) -> int:
    """One HTTP request; returns the status, raises ServerStartError unless it is 2xx."""
    data = body.encode("utf-8") if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as response:
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        raise ServerStartError(f"{method} {url} answered {exc.code}: {_error_body(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise ServerStartError(f"{method} {url} failed: {exc}") from None


def warm_up(base_url: str, warmup: WarmupSpec, *, timeout_s: float = 600.0) -> None:
    """Send the warm-up requests (compiles kernels, fills caches), judged as `engine.runtime.warmup`
    says; a fatal failure fails the container's start."""
    try:
        run_warmup(base_url, warmup, timeout_s=timeout_s, log=_to_container_log)
    except WarmupFailed as exc:
        raise ServerStartError(str(exc)) from None


class EngineLauncher:
    """What one server container does with its engine, from a ServerSpec (no Modal here)."""

    def __init__(self, spec: ServerSpec):
        self.spec = spec
        self.base_url = f"http://{LOCALHOST}:{spec.port}"
        self.process: Supervisor | None = None

    def start(self, member: tuple[int, str] | None = None) -> None:
        """Launch and wait until healthy. `member`: (rank, rank 0's address) in a clustered
        server; a rank other than 0 serves no HTTP, so it launches and returns."""
        spec = self.spec
        command = cluster_command(spec, member)
        argv = resolve_argv(command, spec.secret_args, os.environ)
        shown = display_command(command, spec.secret_args)
        what = "command" if spec.kind == "server" else f"{spec.engine} server"
        where = "" if member is None else f" (node {member[0]} of {spec.cluster.nodes if spec.cluster else 1})"
        print(f"mdeploy: starting {what} {spec.name!r}{where}: {shown}", flush=True)
        self.process = Supervisor(argv, log=_to_container_log, shown_as=shown)
        self.process.start()
        if member is not None and member[0] != 0:
            print(f"mdeploy: node {member[0]} joined rank 0 at {member[1]}; requests go to rank 0", flush=True)
            return
        try:
            took = self.process.wait_ready(
                self.base_url + spec.health_path, spec.startup_timeout, any_answer=spec.ready_on_any_answer
            )
            print(f"mdeploy: {spec.name!r} ready after {took:.1f}s", flush=True)
            if spec.warmup is not None:
                warm_up(self.base_url, spec.warmup, timeout_s=spec.startup_timeout)
        except BaseException:
            # A failed enter fails the container; the engine's GPU memory is freed now, not at teardown.
            self.stop()
            raise

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
            self.process.stop()
            self.process = None


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(500).decode("utf-8", "replace").strip() or exc.reason
    except OSError:
        return str(exc.reason)


def _to_container_log(line: str) -> None:
    print(line, flush=True)  # the container's stdout is its Modal log
