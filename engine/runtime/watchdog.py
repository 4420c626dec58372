"""The process between a supervisor and its engine: it stops the engine's whole tree when told to,
when the engine exits, and when the supervisor dies, whatever killed it.

Run as a script, never imported (the supervisor starts it with `python -I -S`, so it costs one
bare interpreter start and reads nothing from the user's environment or site-packages):

    python -I -S watchdog.py GRACE_S EXECUTABLE ARGV0 [ARG...]

(EXECUTABLE is the path to run, ARGV0 the name the engine sees itself run as.)

Its stdin is the *life pipe*: the supervisor holds the only write end and never writes. The pipe
reaches end-of-file when the supervisor closes it (a deliberate stop) or when the supervisor dies,
because the kernel closes a dead process's descriptors whatever killed it, SIGKILL included. That
is why this exists: the parent-death signal (`prctl(PR_SET_PDEATHSIG)`) reaches only the direct
child, so a worker forked by the engine would survive; and it fires when the *thread* that forked
the child exits, not the process, so an engine started from a short-lived thread would die with it.

What it does:
- becomes a child subreaper (Linux), so an engine's descendant whose parent dies is reparented to
  the watchdog instead of init: even a worker that started its own session stays in its tree;
- forks the engine into its own process group (the session the supervisor created for the
  watchdog: the supervisor can still SIGKILL that group if the watchdog itself is killed), stdin
  /dev/null, stdout and stderr inherited (the supervisor's log pipe), SIGTERM as the engine's own
  parent-death signal;
- waits for end-of-file on stdin, SIGTERM/SIGINT/SIGHUP, or the engine's exit, reaping every
  child it inherits meanwhile;
- stops the tree: SIGTERM to every process of it, up to GRACE_S seconds for all of them to go
  (a second stop signal ends the wait), then SIGKILL, repeated until none is left;
- exits as the engine did (its exit code, or the same signal), so the supervisor reads the
  engine's status as if it were its direct child.

Without /proc (not Linux) the tree is the engine and its process group: descendants that leave
the group are not found, and what is left of the group is SIGKILLed as a whole (by the supervisor,
or by the watchdog itself, last, when the supervisor is gone).
"""

from __future__ import annotations

# The C module under `signal`: the same functions and numbers, without the IntEnum wrappers whose
# import (enum, functools, collections) would triple this bare interpreter's start-up.
import _signal as signal
import os
import select
import sys
import time

# `typing` is not imported either (start-up, as above): mypy treats a name TYPE_CHECKING as true,
# so the imports below are for the annotations only and never run.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import ctypes
    from collections.abc import Callable

_STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
_POLL_S = 0.05
# SIGKILL cannot be caught: each round kills what it finds and reaps; another round is needed only
# when a process forked between a scan and the kill, or has not finished dying (a loaded machine).
# A process still there after this long is stuck in the kernel (uninterruptible I/O).
_KILL_WAIT_S = 5.0
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def main(argv: list[str]) -> None:
    grace_s, executable, args = float(argv[1]), argv[2], argv[3:]
    parent = os.getppid()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    # Handlers only wake the select below (through the wakeup fd); all decisions happen there.
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
    for sig in (*_STOP_SIGNALS, signal.SIGCHLD):
        signal.signal(sig, _wake)
    libc = _libc()
    if libc is not None:
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    tree = _Tree(_spawn(executable, args, libc))
    try:
        _wait_for_stop(tree, wake_r)
        _stop_tree(tree, wake_r, grace_s)
    except BaseException as exc:  # a bug here must not leave the engine running unwatched
        _say(f"mdeploy: watchdog failed ({type(exc).__name__}: {exc}); killing the engine's process group")
        os.killpg(0, signal.SIGKILL)
    if not tree.complete and os.getppid() != parent:
        # No /proc and no supervisor left to clean up after us: the group goes, the watchdog with it.
        os.killpg(0, signal.SIGKILL)
    _exit_like(tree.engine_status)


def _wake(_signum: int, _frame: object) -> None:
    pass


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True)
    except (ImportError, OSError):
        return None


def _spawn(executable: str, args: list[str], libc: ctypes.CDLL | None) -> int:
    watchdog = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never return into the watchdog's code
        signal.set_wakeup_fd(-1)
        for sig in (*_STOP_SIGNALS, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        # Python ignores these two; exec keeps an ignored signal ignored, and engines expect the
        # defaults (subprocess restores them the same way).
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != watchdog:
                os._exit(1)  # the watchdog died before the death signal was armed
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)  # not the life pipe: only the watchdog watches it
        os.close(devnull)
        os.execv(executable, args)
    except OSError as exc:
        _say(f"mdeploy: cannot run {executable}: {exc.strerror or exc}")
    finally:
        os._exit(127)


class _Tree:
    """The engine and every process descended from the watchdog, as far as this system shows them.

    Processes are remembered by (pid, start time) once seen, so one reparented beyond our reach
    (no subreaper) is still stopped, and a reused pid is never mistaken for one of ours.
    """

    def __init__(self, engine: int):
        self.engine = engine
        self.engine_status: int | None = None
        self.complete = os.path.isdir("/proc/self/task")  # can every descendant be found?
        self._root = os.getpid()
        self._group = os.getpgid(0)
        self._seen: dict[int, str] = {}

    def reap(self) -> None:
        """Collect every exited child (the engine's status is kept; orphans we inherited are not)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.engine:
                self.engine_status = status

    def alive(self) -> dict[int, int]:
        """pid -> process group of each live process of the tree."""
        self.reap()
        if not self.complete:
            return {self.engine: self._group} if self.engine_status is None else {}
        table = _process_table()
        children: dict[int, list[int]] = {}
        for pid, (ppid, _group, _start) in table.items():
            children.setdefault(ppid, []).append(pid)
        todo = [self._root]
        while todo:
            for child in children.get(todo.pop(), ()):
                self._seen[child] = table[child][2]
                todo.append(child)
        return {pid: table[pid][1] for pid, start in self._seen.items() if pid in table and table[pid][2] == start}

    def signal(self, sig: int) -> None:
        """`sig` to the watchdog's process group (the watchdog excepted) and to every process of the
        tree outside it; SIGKILL to every process of the tree, one by one."""
        if sig != signal.SIGKILL:
            # The group signal reaches a process forked a moment ago, before any scan could see
            # it. An ignored signal is discarded when sent: the watchdog does not hear its own.
            previous = signal.signal(sig, signal.SIG_IGN)
            try:
                _kill(os.killpg, 0, sig)
            finally:
                signal.signal(sig, previous)
        for pid, group in self.alive().items():
            if sig == signal.SIGKILL or group != self._group:
                _kill(os.kill, pid, sig)


def _process_table() -> dict[int, tuple[int, int, str]]:
    """pid -> (parent pid, process group, start time) of every live, non-zombie process."""
    table = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                text = stat.read().decode("ascii", "replace")
            # The command name (field 2) is in parentheses and may hold spaces or ')'.
            fields = text[text.rindex(")") + 2 :].split()
            if fields[0] not in ("Z", "X"):
                table[int(name)] = (int(fields[1]), int(fields[2]), fields[19])
        except (OSError, ValueError, IndexError):
            continue  # exited while we looked (its stat can read back empty)
    return table


def _kill(send: Callable[[int, int], None], target: int, sig: int) -> None:
    try:
        send(target, sig)
    except (ProcessLookupError, PermissionError):
        pass  # gone already


def _wait_for_stop(tree: _Tree, wake_r: int) -> None:
    life = 0  # stdin, the life pipe
    while True:
        tree.reap()
        if tree.engine_status is not None:
            return
        readable, _, _ = select.select([life, wake_r], [], [])
        if life in readable and not os.read(life, 4096):
            return  # end of file: the supervisor stopped us or died
        if wake_r in readable and _STOP_SIGNALS & _drain(wake_r):
            return


def _drain(wake_r: int) -> set[int]:
    got: set[int] = set()
    while True:
        try:
            chunk = os.read(wake_r, 512)
        except BlockingIOError:
            return got
        if not chunk:
            return got
        got.update(chunk)


def _stop_tree(tree: _Tree, wake_r: int, grace_s: float) -> None:
    if tree.alive():
        tree.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while tree.alive() and time.monotonic() < deadline:
            readable, _, _ = select.select([wake_r], [], [], _POLL_S)
            if readable and _STOP_SIGNALS & _drain(wake_r):
                break  # asked again while stopping: no more grace
    deadline = time.monotonic() + _KILL_WAIT_S
    while tree.alive():
        if time.monotonic() > deadline:
            stuck = " ".join(str(pid) for pid in sorted(tree.alive()))
            _say(f"mdeploy: processes {stuck} did not exit after SIGKILL")
            return
        tree.signal(signal.SIGKILL)
        time.sleep(0.01)


def _say(line: str) -> None:
    """A line into the engine's log; lost, not fatal, when the supervisor is gone."""
    try:
        os.write(2, (line + "\n").encode())
    except OSError:
        pass


def _exit_like(status: int | None) -> None:
    """Exit with the engine's status: its code, or death by the same signal."""
    # Never reaped: the engine got SIGKILL and is stuck in the kernel (reported above).
    code = os.waitstatus_to_exitcode(status) if status is not None else -signal.SIGKILL
    if code >= 0:
        os._exit(code)
    sig = -code
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an engine's SIGSEGV is not ours to dump
        if sig != signal.SIGKILL:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {sig})
    except (ImportError, OSError, ValueError):
        pass
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # the signal did not end us (its default is to ignore it)


if __name__ == "__main__":
    main(sys.argv)
