"""The engine of `mdeploy serve` and `mdeploy bench`: found on this machine, run under the
supervisor (`engine.runtime.supervisor`, shared with the Modal container), its start-up failures
turned into one-line errors for the CLI (the engine's log has been streamed above them already).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from engine.blueprint.model import WarmupSpec
from engine.errors import UserError
from engine.runtime.supervisor import EngineExitedEarly, EngineNotReady, EngineStartError, Supervisor
from engine.runtime.warmup import WarmupFailed, warm_up


def start_engine(argv: Sequence[str], env: Mapping[str, str], cwd: Path, log: Callable[[str], None]) -> Supervisor:
    """Start `argv` under the supervisor; a UserError when it cannot be."""
    executable = argv[0]
    found = find_executable(executable, env.get("PATH"))
    if found is None:
        raise UserError(f"engine executable {executable!r} not found on PATH: install it (see the manifest's image)")
    engine = Supervisor((found, *argv[1:]), log=log, env=env, cwd=cwd, shown_as=executable)
    try:
        engine.start()
    except EngineStartError as exc:
        raise UserError(str(exc)) from None
    return engine


def wait_until_ready(engine: Supervisor, url: str, timeout: float, *, any_answer: bool) -> float:
    """Wait for `url` to answer (200s, or any HTTP answer for web apps); the seconds it took."""
    try:
        return engine.wait_ready(url, timeout, any_answer=any_answer)
    except EngineExitedEarly as exc:
        said = f"; its last log line: {exc.last_line[:300]}" if exc.last_line else ""
        raise UserError(f"the engine exited with code {exc.code} during start-up{said}") from None
    except EngineNotReady:
        raise UserError(f"the engine was not ready at {url} within {timeout:.0f} s (startup_timeout)") from None


def warm_up_here(base_url: str, warmup: WarmupSpec, timeout: float, log: Callable[[str], None]) -> None:
    """The container's warm-up (engine.runtime.warmup), its fatal failure a one-line error."""
    try:
        warm_up(base_url, warmup, timeout_s=timeout, log=log)
    except WarmupFailed as exc:
        raise UserError(f"{exc} (set warmup.fatal: false to serve anyway)") from None


def find_executable(name: str, path: str | None) -> str | None:
    """`name` on PATH, else beside this Python: engines installed into mdeploy's own virtual
    environment (`pip install 'mdeploy[local]'`) are found without activating it."""
    return shutil.which(name, path=path) or shutil.which(name, path=os.path.dirname(sys.executable))
