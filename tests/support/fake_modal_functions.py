"""A stand-in for the part of Modal's client `mdeploy run --remote` uses: a `modal` package first
on PYTHONPATH whose `Function.from_name(app, name, environment_name=...)` records what it was
asked and answers `.remote(*args, **kwargs)` and `.map(inputs)` from a scenario, without a
network or a token being sent anywhere.

    fake = FakeFunctions(tmp_path, deployed={"demo/add": "echo"})
    done = run_mdeploy("run", "--remote", path, "add", "--", "2", env=fake.env(repo_root))
    assert fake.calls() == [{"from_name": ["demo", "add", None], "remote": [[2], {}]}]

A deployed function "echo"es its call back ({"args": [...], "kwargs": {...}} for .remote, the input
for .map) or "raise"s a RuntimeError; a function not in `deployed` raises Modal's NotFoundError,
as the real client does when the app or function is not deployed in that environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_INIT = r"""
import json, os


def _record(entry):
    with open(os.environ["FAKE_FUNCTIONS_RECORD"], "a", encoding="utf-8") as record:
        record.write(json.dumps(entry) + "\n")


def _mode(app, name):
    deployed = json.load(open(os.environ["FAKE_FUNCTIONS_SCENARIO"], encoding="utf-8"))
    return deployed.get(f"{app}/{name}")


class _Handle:
    def __init__(self, app, name, environment_name):
        self.app, self.name, self.environment_name = app, name, environment_name

    def _check(self):
        from modal.exception import NotFoundError

        mode = _mode(self.app, self.name)
        if mode is None:
            raise NotFoundError(f"Lookup failed for Function '{self.name}' from the '{self.app}' app")
        if mode == "raise":
            raise RuntimeError("remote handler failed")

    def remote(self, *args, **kwargs):
        _record({"from_name": [self.app, self.name, self.environment_name], "remote": [list(args), kwargs]})
        self._check()
        return {"args": list(args), "kwargs": kwargs}

    def map(self, inputs, order_outputs=True):
        inputs = list(inputs)
        _record({"from_name": [self.app, self.name, self.environment_name], "map": inputs, "ordered": order_outputs})
        self._check()
        for item in inputs:
            yield {"input": item}


class Function:
    @staticmethod
    def from_name(app_name, name, *, environment_name=None):
        return _Handle(app_name, name, environment_name)
"""

_EXCEPTION = """
class Error(Exception):
    pass


class NotFoundError(Error):
    pass


class AuthError(Error):
    pass
"""


class FakeFunctions:
    def __init__(self, tmp_path: Path, deployed: dict[str, str]):
        self.root = tmp_path / "fake-modal-functions"
        (self.root / "modal").mkdir(parents=True)
        (self.root / "modal" / "__init__.py").write_text(_INIT)
        (self.root / "modal" / "exception.py").write_text(_EXCEPTION)
        self.record = tmp_path / "function-calls.jsonl"
        self.scenario = tmp_path / "functions.json"
        self.scenario.write_text(json.dumps(deployed))
        self.config = tmp_path / "no-modal.toml"

    def env(self, repo_root: Path, **extra: str) -> dict[str, str]:
        """This fake first on the path; a made-up token that passes the offline credential check."""
        return {
            "PYTHONPATH": f"{self.root}{os.pathsep}{repo_root}",
            "FAKE_FUNCTIONS_RECORD": str(self.record),
            "FAKE_FUNCTIONS_SCENARIO": str(self.scenario),
            "MODAL_TOKEN_ID": "ak-fake",
            "MODAL_TOKEN_SECRET": "as-fake",
            "MODAL_CONFIG_PATH": str(self.config),
            **extra,
        }

    def calls(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]
