"""Run `modal deploy engine/entry.py --env ENV` the way a user does, against the fake control plane.

The deploy runs through Modal's own CLI (`modal.cli.entry_point.entrypoint_cli`, what the `modal`
command calls) inside the test process: a fresh interpreter per deploy would cost about two
seconds of CPU each, and the in-process run goes through the same argument parsing, import of
the entry file, object creation and publish. What the in-process run changes in the process
(environment variables, `sys.path`, the imported `entry` module, Modal's client singleton, the
working directory) is put back after each deploy.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.support.fake_control_plane import Call, FakeControlPlane, client_environment, running

REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRY = REPO_ROOT / "engine" / "entry.py"


class DeployFailed(AssertionError):
    """`modal deploy` did not succeed; the message holds its output."""


@contextlib.contextmanager
def fake_modal() -> Iterator[FakeControlPlane]:
    """A fake control plane on a fresh unix socket (short path: sockets allow ~100 characters)."""
    folder = Path(tempfile.mkdtemp(prefix="mdeploy-modal-"))
    try:
        with running(folder / "modal.sock") as fake:
            yield fake
    finally:
        _forget_modal_client()
        shutil.rmtree(folder, ignore_errors=True)


def deploy(fake: FakeControlPlane, manifest: Path, environment: str) -> list[Call]:
    """Deploy `manifest` (a path relative to the repository root, or absolute) for `environment`;
    returns the calls the client made for it, in order."""
    from modal.cli.entry_point import entrypoint_cli

    first = len(fake.calls)
    environ = {**client_environment(fake.socket_path), "MDEPLOY_MANIFEST": str(manifest)}
    output = io.StringIO()
    with _restored_process_state(), contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        os.environ.pop("MODAL_ENVIRONMENT", None)
        os.environ.update(environ)
        os.chdir(REPO_ROOT)
        try:
            entrypoint_cli.main(["deploy", str(ENTRY), "--env", environment], standalone_mode=False)
        except SystemExit as exc:  # click or modal exiting on an error
            if exc.code not in (0, None):
                raise DeployFailed(f"modal deploy exited {exc.code}:\n{output.getvalue()}") from None
        except Exception as exc:
            raise DeployFailed(f"modal deploy failed: {exc!r}\n{output.getvalue()}") from exc
    calls = fake.calls[first:]
    if not any(call.method == "AppPublish" for call in calls):
        raise DeployFailed(f"modal deploy published nothing:\n{output.getvalue()}")
    return calls


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    environ = dict(os.environ)
    path = list(sys.path)
    cwd = os.getcwd()
    entry = sys.modules.pop("entry", None)
    # A real `modal deploy` is a fresh process: no handler package is imported yet, so Modal's
    # add_local_python_source finds each on the deploy's sys.path (the manifest's project first).
    # Packages an earlier test imported from this repository (`workloads`) would shadow that.
    handlers = _forget_project_modules()
    try:
        yield
    finally:
        _forget_project_modules()  # what the deploy imported from a fixture project
        sys.modules.update(handlers)
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:] = path
        os.chdir(cwd)
        sys.modules.pop("entry", None)
        if entry is not None:
            sys.modules["entry"] = entry


def _forget_project_modules() -> dict[str, object]:
    """Remove (and return) imported modules of this repository other than `engine` and `tests`.

    A virtual environment inside the checkout (CI's `.venv`) is not part of the project: its
    modules, `__main__` included, stay imported."""
    root = str(REPO_ROOT) + os.sep
    installed = tuple(
        {os.path.join(p, "") for prefix in (sys.prefix, sys.base_prefix) for p in (prefix, os.path.realpath(prefix))}
    )
    found = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) or ""
        if file and not os.path.isabs(file):
            file = os.path.abspath(file)
        if (
            file.startswith(root)
            and not file.startswith(installed)
            and name != "__main__"
            and name.split(".")[0] not in ("engine", "tests", "entry")
        ):
            found[name] = sys.modules.pop(name)
    return found


def _forget_modal_client() -> None:
    """Drop Modal's cached client, which still points at the fake's (now closed) socket."""
    from modal.client import _Client

    _Client._client_from_env = None
    _Client._client_from_env_lock = None
