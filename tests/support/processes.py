"""Process-tree helpers for tests that check `mdeploy serve` leaves nothing behind (Linux /proc)."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, process group) of a live, non-zombie process; None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    state, ppid, pgrp = fields[0], int(fields[1]), int(fields[2])
    return None if state in ("Z", "X") else (ppid, pgrp)


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def descendants(root: int) -> set[int]:
    """Every live process below `root`."""
    parents: dict[int, list[int]] = {}
    for pid in _all_pids():
        info = _stat(pid)
        if info:
            parents.setdefault(info[0], []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def process_groups(pids: set[int]) -> set[int]:
    return {info[1] for pid in pids if (info := _stat(pid))}


def alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if _stat(pid) is not None}


def survivors(pids: set[int], *, checks: int = 200, interval: float = 0.05) -> set[int]:
    """Which of `pids` are still alive after they have had up to `checks` looks to disappear."""
    for _ in range(checks):
        left = alive(pids)
        if not left:
            return left
        time.sleep(interval)
    return alive(pids)


def members_of_groups(groups: set[int]) -> set[int]:
    return {pid for pid in _all_pids() if (info := _stat(pid)) and info[1] in groups}


class LineReader:
    """Read a child's stdout lines on a thread, so a test can wait for one with a timeout."""

    def __init__(self, stream):
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, prefix: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                return None
            if line is None:
                return None
            self.seen.append(line)
            if line.startswith(prefix):
                return line.rstrip("\n")
        return None


def interrupt_and_check_gone(proc: subprocess.Popen, sig: signal.Signals, timeout: float = 30) -> tuple[int, set[int]]:
    """Send `sig` to `mdeploy serve`, wait for it; return its exit code and whatever of its tree survived."""
    tree = descendants(proc.pid)
    groups = process_groups(tree)
    assert tree, "mdeploy serve had no child process to stop"
    proc.send_signal(sig)
    code = proc.wait(timeout=timeout)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (alive(tree) or members_of_groups(groups)):
        time.sleep(0.1)
    return code, alive(tree) | members_of_groups(groups)


def kill_tree(proc: subprocess.Popen) -> None:
    """Test cleanup: whatever a failed test left running."""
    for pid in descendants(proc.pid) | {proc.pid}:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    proc.wait(timeout=10)
