"""Every call mdeploy makes to Modal: Modal's own CLI, run as `python -m modal ...` in a subprocess.

Why the CLI and not Modal's Python API: the CLI is the interface Modal documents and keeps stable
for these lifecycle commands (`app history|rollback|logs|stats`, `server info|autoscaler`,
`billing rates|report`), most of them print `--json`, and a call is then one argv — which a dry
run prints exactly and a test intercepts exactly (a fake `modal` package first on PYTHONPATH).
It also keeps `modal` out of mdeploy's own process, and Modal resolves credentials, profiles and
environments the way it always does. The same interpreter runs it, so the same installed modal.

A failing call becomes one line (`UserError`): the last thing Modal said, without the box art of
its error panels. Reading calls run a few at a time on threads: each one starts a Python process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from engine.errors import UserError

PARALLEL_CALLS = 4
_BOX = re.compile(r"[\u2500-\u257f]+")  # rich's panel borders


@dataclass(frozen=True)
class ModalCall:
    """`modal ARGS...`; `argv` is what runs, `shown` what a dry run prints (the same words)."""

    args: tuple[str, ...]

    @property
    def argv(self) -> list[str]:
        return [sys.executable, "-m", "modal", *self.args]

    @property
    def shown(self) -> str:
        return shlex.join(self.argv)

    @property
    def short(self) -> str:
        """`modal app history chat` (the words before the first flag): how an error names the call."""
        words = []
        for arg in self.args:
            if arg.startswith("-"):
                break
            words.append(arg)
        return "modal " + " ".join(words)


def call(*args: str | None) -> ModalCall:
    """A ModalCall from words; None words are dropped (an optional flag left out)."""
    return ModalCall(tuple(a for a in args if a is not None))


def env_args(env: str | None) -> tuple[str, ...]:
    """`--env ENV` when one was chosen; otherwise Modal's own default environment applies."""
    return ("--env", env) if env else ()


@dataclass(frozen=True)
class Reply:
    """What one reading call returned: parsed JSON, or one line saying why there is none."""

    call: ModalCall
    data: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def one_line(stderr: str) -> str:
    """Modal's error as one line: the panel's text without borders, or a traceback's last line."""
    lines = [_BOX.sub(" ", line).strip() for line in stderr.splitlines()]
    lines = [line for line in lines if line and line != "Error"]
    if not lines:
        return "no output"
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    text = " ".join(" ".join(line.split()) for line in lines)
    return text if len(text) <= 400 else text[:397] + "..."


def _run(modal_call: ModalCall) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(modal_call.argv, capture_output=True, text=True, env=dict(os.environ), check=False)
    except OSError as exc:
        raise UserError(f"could not start modal: {exc}") from None


def read(modal_call: ModalCall) -> Reply:
    """Run a `--json` call; its reply, or why it failed (never raises for Modal's own errors)."""
    done = _run(modal_call)
    if done.returncode != 0:
        return Reply(modal_call, error=f"`{modal_call.short}` failed: {one_line(done.stderr)}")
    try:
        return Reply(modal_call, data=json.loads(done.stdout))
    except json.JSONDecodeError:
        return Reply(modal_call, error=f"`{modal_call.short}` printed no JSON: {one_line(done.stdout)}")


def read_all(calls: Sequence[ModalCall]) -> list[Reply]:
    """Several reading calls at once, replies in the order of `calls`."""
    if len(calls) <= 1:
        return [read(c) for c in calls]
    with ThreadPoolExecutor(max_workers=PARALLEL_CALLS) as pool:
        return list(pool.map(read, calls))


def read_or_fail(modal_call: ModalCall) -> Any:
    """The JSON of a call whose failure ends the command (one `error:` line)."""
    reply = read(modal_call)
    if not reply.ok:
        raise UserError(reply.error or "")
    return reply.data


def stream(modal_call: ModalCall) -> int:
    """Run a call whose output the user reads as it comes (logs, rollback); its exit status.
    Stderr is held back so that a failure is one line; on success it is passed on."""
    try:
        done = subprocess.run(modal_call.argv, stderr=subprocess.PIPE, text=True, env=dict(os.environ), check=False)
    except OSError as exc:
        raise UserError(f"could not start modal: {exc}") from None
    if done.returncode != 0:
        raise UserError(f"`{modal_call.short}` failed: {one_line(done.stderr)}", exit_code=done.returncode)
    sys.stderr.write(done.stderr)
    return 0
