"""engine/cli/main.py is the one catch point: user errors become messages and exit codes, bugs
become one line (a traceback only on request), and no token shape leaves through any of them."""

from __future__ import annotations

import importlib.machinery
import sys
import types

import pytest

from engine.cli import main as cli_main
from engine.errors import UserError
from engine.manifest.errors import Location, ManifestError, Problem

FAKE_TOKEN = "hf_" + "Q" * 34


@pytest.fixture
def command_raising(monkeypatch):
    """Register a throwaway command `boom` whose run() raises the given exception."""

    def install(exc: BaseException) -> None:
        module = types.ModuleType("fake_boom_command")
        module.__spec__ = importlib.machinery.ModuleSpec("fake_boom_command", None)
        module.register = lambda sub: sub.add_parser("boom")

        def run(args):
            raise exc

        module.run = run
        monkeypatch.setitem(sys.modules, "fake_boom_command", module)
        monkeypatch.setitem(cli_main.COMMANDS, "boom", ("fake_boom_command", "raise for a test"))

    return install


def test_user_error_is_one_line_with_its_exit_code(command_raising, capsys):
    command_raising(UserError("port 8000 is in use", exit_code=3))
    assert cli_main.main(["boom"]) == 3
    assert capsys.readouterr().err == "error: port 8000 is in use\n"


def test_manifest_error_prints_every_problem_and_exits_1(command_raising, capsys):
    command_raising(
        ManifestError(
            [
                Problem(Location("m.yaml", 2, 3), "app", "bad name"),
                Problem(Location("m.yaml", 5, 1), "services.x.gpu", "unknown GPU", "write H100"),
            ]
        )
    )
    assert cli_main.main(["boom"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "m.yaml:2:3: app: bad name",
        "m.yaml:5:1: services.x.gpu: unknown GPU (write H100)",
        "2 problems found",
    ]


def test_tokens_in_any_error_message_are_redacted(command_raising, capsys):
    command_raising(UserError(f"no volume {FAKE_TOKEN!r} is declared"))
    cli_main.main(["boom"])
    command_raising(ManifestError(Problem(Location("m.yaml", 1, 1), "gpu", f"unknown GPU {FAKE_TOKEN}")))
    cli_main.main(["boom"])
    err = capsys.readouterr().err
    assert FAKE_TOKEN not in err and err.count("error") == 1


def test_a_bug_is_one_line_without_traceback(command_raising, capsys, monkeypatch):
    monkeypatch.delenv("MDEPLOY_TRACEBACK", raising=False)
    command_raising(KeyError("oops"))
    assert cli_main.main(["boom"]) == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error: KeyError" in err


def test_traceback_on_request(command_raising, capsys, monkeypatch):
    monkeypatch.setenv("MDEPLOY_TRACEBACK", "1")
    command_raising(KeyError("oops"))
    cli_main.main(["boom"])
    assert "Traceback" in capsys.readouterr().err
