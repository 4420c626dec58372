"""Run `mdeploy ARGS...` the way a user does, in a fresh process or, for the commands that allow it,
in this one.

Most CLI tests exercise commands that read files and print (validate, plan, diff, ...). Starting a
Python process for each costs about a second, mostly importing Modal; the suite makes hundreds of
such calls. Those commands run here instead, through the same `engine.cli.main.main` the console
script calls, with the environment, working directory and standard streams swapped for the call,
so a test sees the same exit status and the same bytes on stdout and stderr.

Commands that start servers or child processes, install signal handlers, or talk to a (fake)
control plane through Modal's client keep a fresh process each: their state would outlive the call
(Modal's client is a process-wide singleton). `fresh_process=True` forces one for any command,
for tests of the process boundary itself (exit on a closed pipe, the catch point).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

# Commands that only read files (and git) and print: safe to run inside the test process.
IN_PROCESS_COMMANDS = frozenset({"validate", "schema", "plan", "explain", "eject", "diff", "init"})
# The variables a user's shell might carry into a test run that change what mdeploy does.
_UNSET = ("MODAL_ENVIRONMENT", "MDEPLOY_TRACEBACK")


def run_cli(
    args: tuple[str, ...],
    *,
    repo_root: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | str | None = None,
    timeout: float = 120,
    fresh_process: bool = False,
) -> subprocess.CompletedProcess[str]:
    command = next((a for a in args if not a.startswith("-")), None)
    talks_to_modal = any(key.startswith("MODAL_") for key in env or {})
    if fresh_process or command not in IN_PROCESS_COMMANDS or talks_to_modal:
        return _in_fresh_process(args, repo_root=repo_root, env=env, cwd=cwd, timeout=timeout)
    return _in_this_process(args, env=env, cwd=cwd or repo_root)


def _in_fresh_process(args, *, repo_root, env, cwd, timeout) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    for name in _UNSET:
        full_env.pop(name, None)
    full_env["PYTHONPATH"] = str(repo_root)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        cwd=cwd or repo_root,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _in_this_process(args, *, env, cwd) -> subprocess.CompletedProcess[str]:
    from engine.cli.main import main

    with _swapped_environment(env), _working_directory(cwd), _captured_streams() as (out, err):
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors and --help end this way
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    return subprocess.CompletedProcess(
        ["mdeploy", *args], code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8")
    )


@contextmanager
def _swapped_environment(env: Mapping[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    for name in _UNSET:
        os.environ.pop(name, None)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def _working_directory(path: Path | str) -> Iterator[None]:
    saved = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(saved)


@contextmanager
def _captured_streams() -> Iterator[tuple[io.BytesIO, io.BytesIO]]:
    # Text streams over bytes, as a pipe is: code that writes to sys.stdout.buffer works too, and
    # nothing here is a terminal (isatty() is False), as for a subprocess with captured output.
    out, err = _KeptBytesIO(), _KeptBytesIO()
    saved = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", errors="backslashreplace", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace", write_through=True)
    try:
        yield out, err
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved


class _KeptBytesIO(io.BytesIO):
    # A TextIOWrapper closes its buffer when it is collected; the captured bytes must outlive it.
    def close(self) -> None:
        pass
