"""Run an engine: start it under a watchdog, stream its output, wait for readiness, stop its tree.

One supervisor for both places an engine runs: the Modal server container
(`engine.modal_backend.server_runtime`, from `@modal.enter` / `@modal.exit`) and `mdeploy serve` /
`mdeploy bench` (`engine.local.process`). What differs between them is a parameter: where the log
lines go (`log`), the command as shown in messages (`shown_as`, without secret values), the
readiness URL and rule; the container's warm-up and snapshot sleep/wake are requests it sends
after `wait_ready`. It lives in `engine.runtime` because backends never import each other.

The engine runs below a watchdog (`watchdog.py`, a separate bare interpreter) that the supervisor
starts in a new session and talks to through a pipe: closing the pipe stops the engine's whole
tree — and so does the supervisor's death, by any signal, SIGKILL included, since the kernel
closes a dead process's pipe. `docs/processes.md` tells what happens on each signal.

Where the two runners used to differ, one behaviour now, and why:
- readiness: GET answering 2xx (the local runner took only 200; a 204 is as ready), or any HTTP
  answer at all (`any_answer`) for web apps, which have no health route;
- polling: every 0.25 s (the container polled every 1 s): a refused loopback connection costs
  microseconds, and every start waits half an interval on average for nothing;
- probe timeout: 2 s, never past the deadline (the container waited 5 s): a loading engine that
  accepts but does not answer is simply probed again, and a short probe notices its exit sooner;
- stop grace: 10 s from SIGTERM to SIGKILL (the container gave 15 s): a healthy engine frees its
  GPU and exits in a few seconds; a longer grace only waits on a hung one, which costs billed GPU
  time in a container (Modal has drained its requests before `@modal.exit`) and a user's patience
  at Ctrl-C;
- output: lines decoded as UTF-8 (undecodable bytes replaced), at most 8 KiB each, passed to `log`;
  the last 40 are kept for error messages (the local runner kept 20 and showed only the last);
- orphans: the watchdog for both (the local runner armed PR_SET_PDEATHSIG on the engine alone, which
  left its workers behind; the container had nothing).

Standard library only: server containers import this, and their image owes us nothing beyond
Python. Imported only when a server starts its engine (see `engine.modal_backend.servers`).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

STOP_GRACE_S = 10.0
POLL_INTERVAL_S = 0.25
PROBE_TIMEOUT_S = 2.0
LOG_TAIL_LINES = 40
LOG_LINE_LIMIT = 8192
# After the grace period the watchdog SIGKILLs and reaps the tree (giving up after 5 s on a process
# stuck in the kernel); if it has not exited this much later, it is stuck itself and the
# supervisor SIGKILLs the group.
WATCHDOG_SLACK_S = 10.0
WATCHDOG = Path(__file__).with_name("watchdog.py")

# Probes go straight to the engine: a user's HTTP(S)_PROXY must not route a loopback health check.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EngineStartError(RuntimeError):
    """The engine could not start or did not become ready; the message says why, with its last
    output (`tail`)."""

    def __init__(self, message: str, tail: Sequence[str] = ()):
        super().__init__(message)
        self.tail = tuple(tail)

    @property
    def last_line(self) -> str:
        """The engine's last non-blank output line, stripped ('' when it printed nothing)."""
        return next((line.strip() for line in reversed(self.tail) if line.strip()), "")


class EngineExitedEarly(EngineStartError):
    def __init__(self, message: str, tail: Sequence[str], *, code: int, url: str):
        super().__init__(message, tail)
        self.code = code
        self.url = url


class EngineNotReady(EngineStartError):
    def __init__(self, message: str, tail: Sequence[str], *, url: str, timeout_s: float):
        super().__init__(message, tail)
        self.url = url
        self.timeout_s = timeout_s


class Supervisor:
    """One engine process tree: `start`, `wait_ready`, then `wait` or `stop` (also a context manager
    that starts and stops)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        log: Callable[[str], None],
        env: Mapping[str, str] | None = None,
        cwd: Path | str | None = None,
        shown_as: str | None = None,
        grace_s: float = STOP_GRACE_S,
    ):
        self.argv = tuple(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        # Messages name the engine by `shown_as`; never by the whole argv, which may hold secret values.
        self.shown_as = shown_as if shown_as is not None else self.argv[0]
        self.grace_s = grace_s
        self._log = log
        self._tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._popen: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._stopped = False

    @property
    def pid(self) -> int | None:
        """The watchdog's pid, which is also the engine's process group id."""
        return self._popen.pid if self._popen else None

    @property
    def tail(self) -> tuple[str, ...]:
        return tuple(self._tail)

    def start(self) -> None:
        """Start the engine (raises EngineStartError when it cannot be). A program that is found but
        cannot be executed exits with code 127 and says why in its output."""
        executable = self._executable()
        if executable is None:
            raise EngineStartError(f"cannot start `{self.shown_as}`: {self.argv[0]!r} not found on PATH")
        command = [sys.executable, "-I", "-S", str(WATCHDOG), repr(float(self.grace_s)), executable, *self.argv]
        try:
            self._popen = subprocess.Popen(
                command,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.PIPE,  # the life pipe: only this process holds its write end
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise EngineStartError(f"cannot start `{self.shown_as}`: {exc.strerror or exc}") from None
        self._pump = threading.Thread(target=self._pump_output, name="engine-log", daemon=True)
        self._pump.start()

    def poll(self) -> int | None:
        """The engine's exit code once its tree is gone (negative: killed by that signal), else None."""
        return self._popen.poll() if self._popen else None

    def wait_ready(
        self,
        url: str,
        timeout_s: float,
        *,
        any_answer: bool = False,
        interval_s: float = POLL_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> float:
        """Probe `url` until it is ready (see `probe`); returns the seconds it took. Raises
        EngineExitedEarly as soon as the engine exits, EngineNotReady when `timeout_s` has passed."""
        started = clock()
        deadline = started + timeout_s
        while True:
            code = self.poll()
            if code is not None:
                self._join_pump()
                raise EngineExitedEarly(
                    f"`{self.shown_as}` exited with code {code} before {url} was ready; "
                    f"last output:\n{self._tail_text()}",
                    self.tail,
                    code=code,
                    url=url,
                )
            if probe(url, any_answer=any_answer, timeout_s=min(PROBE_TIMEOUT_S, max(deadline - clock(), 0.1))):
                return clock() - started
            if clock() >= deadline:
                raise EngineNotReady(
                    f"{url} not ready after {timeout_s:g}s (`{self.shown_as}` still running); "
                    f"last output:\n{self._tail_text()}",
                    self.tail,
                    url=url,
                    timeout_s=timeout_s,
                )
            time.sleep(interval_s)

    def wait(self) -> int:
        """Until the engine exits (and the watchdog has stopped what it left); its exit code."""
        assert self._popen is not None, "start() first"
        code = self._popen.wait()
        self._join_pump()
        return code

    def stop(self) -> int | None:
        """Stop the whole tree: SIGTERM, `grace_s` seconds, SIGKILL; returns the engine's exit code.

        A second interruption (Ctrl-C, or SIGTERM raised as an exception) while waiting tells the
        watchdog to SIGKILL at once and propagates; the watchdog finishes the stop on its own."""
        popen = self._popen
        if popen is None:
            return None
        if self._stopped:
            return popen.returncode
        self._close_life_pipe()
        try:
            popen.wait(timeout=self.grace_s + WATCHDOG_SLACK_S)
        except subprocess.TimeoutExpired:
            pass
        except BaseException:
            _send(os.kill, popen.pid, signal.SIGINT)
            raise
        # Whatever is left in the group (the watchdog is gone): without /proc the watchdog cannot
        # see all of it, and a watchdog that did not exit in time is stuck. Nothing left here
        # deserves more grace.
        _send(os.killpg, popen.pid, signal.SIGKILL)
        code = popen.wait()
        self._stopped = True
        self._join_pump()
        return code

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _executable(self) -> str | None:
        """argv[0] as the OS would run it: a name is looked up on the engine's PATH, a path is
        taken relative to the engine's working directory."""
        name = self.argv[0]
        if os.sep in name:
            return os.path.join(self.cwd if self.cwd is not None else os.getcwd(), name)
        path = self.env.get("PATH", os.defpath) if self.env is not None else None
        return shutil.which(name, path=path)

    def _close_life_pipe(self) -> None:
        assert self._popen is not None
        if self._popen.stdin is not None:
            try:
                self._popen.stdin.close()
            except OSError:
                pass

    def _pump_output(self) -> None:
        assert self._popen is not None and self._popen.stdout is not None
        stream = self._popen.stdout
        for raw in iter(lambda: stream.readline(LOG_LINE_LIMIT), b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            self._tail.append(line)
            try:
                self._log(line)
            except Exception:  # noqa: BLE001 - a broken log must not stop the draining
                pass  # an undrained pipe would block the engine on its next write

    def _join_pump(self) -> None:
        # Bounded: a descendant that escaped the tree may still hold the pipe open.
        if self._pump is not None:
            self._pump.join(timeout=2.0)

    def _tail_text(self) -> str:
        return "\n".join(self._tail) if self._tail else "(no output)"


def probe(url: str, *, any_answer: bool = False, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """One GET: True when it answers 2xx, or any HTTP status at all when `any_answer`."""
    try:
        with _DIRECT.open(url, timeout=timeout_s) as response:
            return any_answer or 200 <= response.status < 300
    except urllib.error.HTTPError:
        return any_answer
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _send(send: Callable[[int, int], None], target: int, sig: signal.Signals) -> None:
    try:
        send(target, sig)
    except (ProcessLookupError, PermissionError):
        pass  # gone already
