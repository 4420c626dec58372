"""A child process in its own process group: start it, stop the whole group.

Inference engines fork workers (uvicorn, tokenizer pools, vLLM's and SGLang's per-GPU workers),
so stopping the process we started is not enough: the child starts in a new session (its pid is
the group id) and stopping signals the whole group — SIGTERM, a grace period, then SIGKILL — so
no orphan keeps a port or a GPU.

Both backends run engines this way: the Modal container (`engine.modal_backend.server_runtime`)
and `mdeploy serve` (`engine.local.process`). It lives here, outside both, because backends
import only the Blueprint, never each other. Standard library only: server containers import it,
and their image owes us nothing beyond Python.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_GROUP_POLL_S = 0.1


def start_in_new_group(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    text: bool = False,
    preexec_fn: Callable[[], None] | None = None,
) -> subprocess.Popen:
    """Start `argv` as the leader of a new session, stdin closed, stdout and stderr merged into one
    pipe (bytes, or lines of text with undecodable bytes replaced when `text`). Raises OSError."""
    decoding = {"text": True, "errors": "replace", "bufsize": 1} if text else {}
    return subprocess.Popen(
        list(argv),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=preexec_fn,
        **decoding,
    )


def stop_group(popen: subprocess.Popen, grace_s: float) -> int:
    """SIGTERM the process group led by `popen`, give it `grace_s` seconds to exit (the leader, then
    any worker that outlives it), SIGKILL whatever is left; returns the leader's exit code."""
    group = popen.pid  # the leader of a new session: its pid is the group id
    deadline = time.monotonic() + grace_s
    # Signalled even when the leader has already exited: its workers may still be running.
    _signal_group(group, signal.SIGTERM)
    try:
        popen.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(_GROUP_POLL_S)
    _signal_group(group, signal.SIGKILL)
    return popen.wait()


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
