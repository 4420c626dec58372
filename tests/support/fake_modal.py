"""A stand-in for Modal's CLI: a `modal` package first on PYTHONPATH, so `python -m modal ...`
(which is how mdeploy calls Modal) runs this instead, records its argv and prints a canned reply.

    fake = FakeModal(tmp_path)
    fake.reply("app", "history", json=[...])          # argv starting with these words
    result = run_mdeploy("history", "manifests/chat.yaml", "--env", "prod", env=fake.env())
    assert fake.calls() == [["app", "history", "chat", "--env", "prod", "--json"]]

The reply with the longest matching prefix wins (the latest of equal ones), so a test can answer
`function info notes-api/old-job` apart from every other `function info`. Nothing here talks to
Modal. A call no rule matches exits 99 with a message naming it, so a test fails loudly on a call
it did not expect.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_MAIN = r"""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_MODAL_RECORD"], "a", encoding="utf-8") as record:
    record.write(json.dumps({"argv": args, "manifest": os.environ.get("MDEPLOY_MANIFEST")}) + "\n")
rules = json.load(open(os.environ["FAKE_MODAL_SCENARIO"], encoding="utf-8"))
matching = [r for r in rules if args[: len(r["prefix"])] == r["prefix"]]
if not matching:
    sys.stderr.write("fake modal: no reply for " + " ".join(args) + "\n")
    sys.exit(99)
rule = max(reversed(matching), key=lambda r: len(r["prefix"]))  # longest prefix; the latest of equals
sys.stdout.write(rule["stdout"])
sys.stderr.write(rule["stderr"])
sys.exit(rule["exit"])
"""


class FakeModal:
    def __init__(self, tmp_path: Path):
        self.root = tmp_path / "fake-modal"
        (self.root / "modal").mkdir(parents=True)
        (self.root / "modal" / "__init__.py").write_text("")
        (self.root / "modal" / "__main__.py").write_text(_MAIN)
        self.record = tmp_path / "modal-calls.jsonl"
        self.scenario = tmp_path / "modal-scenario.json"
        self.config = tmp_path / "no-modal.toml"
        self.rules: list[dict[str, Any]] = []
        self._write()

    def reply(self, *prefix: str, json_data: Any = None, stdout: str = "", stderr: str = "", exit: int = 0) -> None:
        """Calls whose argv starts with `prefix` print this (JSON as Modal's print_json does)."""
        if json_data is not None:
            stdout = json.dumps(json_data, indent=2) + "\n"
        self.rules.append({"prefix": list(prefix), "stdout": stdout, "stderr": stderr, "exit": exit})
        self._write()

    def _write(self) -> None:
        self.scenario.write_text(json.dumps(self.rules))

    def env(self, repo_root: Path, **extra: str) -> dict[str, str]:
        """The environment for run_mdeploy: this fake first on the path, a token that passes the
        offline credential check (and that the fake never sends anywhere)."""
        return {
            "PYTHONPATH": f"{self.root}{os.pathsep}{repo_root}",
            "FAKE_MODAL_RECORD": str(self.record),
            "FAKE_MODAL_SCENARIO": str(self.scenario),
            "MODAL_TOKEN_ID": "ak-fake",
            "MODAL_TOKEN_SECRET": "as-fake",
            "MODAL_CONFIG_PATH": str(self.config),
            **extra,
        }

    def records(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]

    def calls(self) -> list[list[str]]:
        """Every argv after `python -m modal`, in the order the calls started."""
        return [r["argv"] for r in self.records()]
