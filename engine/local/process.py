"""An engine running as a child process: start, stream its log, wait for readiness, stop it all.

The child starts in a new session (its own process group), because engines fork workers
(uvicorn, tokenizer pools, vLLM's engine core): stopping means signalling the whole group —
SIGTERM, a grace period, then SIGKILL — so no orphan keeps a port or a GPU
(`engine.runtime.process_group`, shared with the Modal container's server runtime).
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
from collections.abc import Callable
from pathlib import Path

from engine.errors import UserError
from engine.runtime.process_group import start_in_new_group, stop_group

STOP_GRACE_SECONDS = 10.0
POLL_SECONDS = 0.25
LOG_TAIL_LINES = 20


class EngineProcess:
    def __init__(self, argv: tuple[str, ...], env: dict[str, str], cwd: Path, log: Callable[[str], None]):
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self._log = log
        self._tail: deque[str] = deque(maxlen=LOG_TAIL_LINES)
        self._popen: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        executable = self.argv[0]
        found = find_executable(executable, self.env.get("PATH"))
        if found is None:
            raise UserError(f"engine executable {executable!r} not found on PATH: install it (see the manifest's image)")
        try:
            self._popen = start_in_new_group(
                (found, *self.argv[1:]), env=self.env, cwd=self.cwd, preexec_fn=_die_with_parent
            )
        except OSError as exc:
            raise UserError(f"cannot start {executable!r}: {exc.strerror}") from None
        self._pump = threading.Thread(target=self._pump_log, name="engine-log", daemon=True)
        self._pump.start()

    def poll(self) -> int | None:
        return self._popen.poll() if self._popen else None

    def wait_ready(self, url: str, timeout: float, *, any_answer: bool) -> float:
        """Poll `url` until it answers 200 (or any HTTP status, for web apps); return the seconds taken."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            code = self.poll()
            if code is not None:
                self._drain()
                last = next((line.strip() for line in reversed(self._tail) if line.strip()), "")
                said = f"; its last log line: {last[:300]}" if last else ""
                raise UserError(f"the engine exited with code {code} during start-up{said}")
            if _answers(url, any_answer):
                return time.monotonic() - began
            if time.monotonic() > deadline:
                raise UserError(f"the engine was not ready at {url} within {timeout:.0f} s (startup_timeout)")
            time.sleep(POLL_SECONDS)

    def wait(self) -> int:
        assert self._popen is not None
        code = self._popen.wait()
        self._drain()
        return code

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """SIGTERM the process group, then SIGKILL what is left after `grace` seconds."""
        if self._popen is None:
            return
        stop_group(self._popen, grace)
        self._drain()

    def _pump_log(self) -> None:
        assert self._popen is not None and self._popen.stdout is not None
        for raw in self._popen.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self._tail.append(line)
            self._log(line)

    def _drain(self) -> None:
        if self._pump is not None:
            self._pump.join(timeout=2)


def find_executable(name: str, path: str | None) -> str | None:
    """`name` on PATH, else beside this Python: engines installed into mdeploy's own virtual
    environment (`pip install 'mdeploy[local]'`) are found without activating it."""
    return shutil.which(name, path=path) or shutil.which(name, path=os.path.dirname(sys.executable))


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM if mdeploy itself dies (even by SIGKILL),
    so a killed runner cannot leave an engine holding the port."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the process group stop still applies on every normal exit


def _answers(url: str, any_answer: bool) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return any_answer or response.status == 200
    except urllib.error.HTTPError:
        return any_answer
    except (urllib.error.URLError, OSError, ValueError):
        return False

