"""`kind: cls` functions through `mdeploy validate`: every rule at the key it is about (file:line:col),
a non-zero exit, no traceback. The class's module is read, never run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MODULE = """
def plain():
    pass

LIMIT = 3

class Embedder:
    def __init__(self, path):
        self.path = path

    def load(self, device):
        pass

    def embed(self, texts=None):
        return texts

    def stream(self):
        yield 1

    def run(self, x):
        return x

class Good:
    def load(self):
        pass

    def embed_many(self, texts: list[str]) -> list[list[float]]:
        return [[0.0] for _ in texts]

    def close(self):
        pass

class Inherits(dict):
    pass
"""


def _validate(tmp_path: Path, functions: str) -> tuple[int, list[str]]:
    (tmp_path / ".git").mkdir()
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    (tmp_path / "jobs" / "embed.py").write_text(textwrap.dedent(MODULE))
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\napp: t\nfunctions:\n" + textwrap.indent(textwrap.dedent(functions), "  "))
    result = subprocess.run(
        [sys.executable, "-m", "engine", "validate", str(manifest)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=120,
    )
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line.split("m.yaml:", 1)[1] for line in result.stdout.splitlines() if "m.yaml:" in line]
    return result.returncode, lines


def test_a_good_class_validates(tmp_path):
    code, problems = _validate(
        tmp_path,
        """\
          embedder:
            kind: cls
            handler: jobs.embed:Good
            enter: [load]
            exit: [close]
            batched: {embed_many: {max_batch_size: 32, wait_ms: 100}}
          open:
            kind: cls
            handler: jobs.embed:Inherits
            methods: [from_base]
        """,
    )
    assert (code, problems) == (0, [])


def test_the_class_and_each_method_are_checked_where_they_are_named(tmp_path):
    code, problems = _validate(
        tmp_path,
        """\
          a:
            kind: cls
            handler: jobs.embed:Embedder
            enter: [load, lod]
            methods: [stream, run]
          b:
            kind: cls
            handler: jobs.embed:Good
            batched: {close: {max_batch_size: 2, wait_ms: 1}}
          c:
            kind: cls
            handler: jobs.embed:plain
            methods: [x]
          d:
            kind: cls
            handler: jobs.embed:LIMIT
            methods: [x]
        """,
    )
    assert code == 1
    assert problems == [
        "6:14: functions.a.handler: 'jobs.embed:Embedder' (jobs/embed.py:7) requires 'path' to be built; mdeploy "
        "builds one instance per container with no arguments (give those parameters defaults, or read them from env "
        "in an enter method)",
        "7:13: functions.a.enter[0]: 'jobs.embed:Embedder' method 'load' (line 11) requires 'device', but an enter "
        "hook is called with no arguments (give those parameters defaults, or read them from env)",
        "7:19: functions.a.enter[1]: 'jobs.embed:Embedder' (jobs/embed.py:7) has no method 'lod' (did you mean 'load'?)",
        "8:15: functions.a.methods[0]: 'jobs.embed:Embedder' method 'stream' (line 17) is a generator; mdeploy methods "
        "return their result, they cannot yield (collect the items into a list and return it)",
        "12:15: functions.b.batched.close: 'jobs.embed:Good' method 'close' (line 30) takes no parameters, but a "
        "batched function receives each parameter as the list of the batch's inputs (take the inputs as a list, "
        "e.g. def close(items: list) -> list)",
        "15:14: functions.c.handler: 'jobs.embed:plain' is a function, not a class; `kind: cls` deploys a class (name "
        "a class of the module, or remove `kind: cls` and its method lists to run it as a function)",
        "19:14: functions.d.handler: 'jobs.embed:LIMIT' is a number, not a class; `kind: cls` deploys a class "
        "(name a class of the module)",
    ]


def test_the_lists_follow_modals_rules_for_a_class(tmp_path):
    code, problems = _validate(
        tmp_path,
        """\
          twice:
            kind: cls
            handler: jobs.embed:Good
            enter: [load]
            methods: [embed_many, load]
          two-batched:
            kind: cls
            handler: jobs.embed:Good
            batched: {embed_many: {max_batch_size: 2, wait_ms: 1}, close: {max_batch_size: 2, wait_ms: 1}}
          mixed:
            kind: cls
            handler: jobs.embed:Good
            methods: [close]
            batched: {embed_many: {max_batch_size: 2000, wait_ms: 1}}
          nothing:
            kind: cls
            handler: jobs.embed:Good
          typo:
            kind: clss
            handler: jobs.embed:Good
        """,
    )
    assert code == 1
    assert problems == [
        "8:27: functions.twice.methods[1]: method 'load' is listed also in `enter` (name each method once: a hook is "
        "not callable remotely, and a method has one decorator)",
        "12:67: functions.two-batched.batched.close: a Modal class has at most one batched method (keep one under "
        "`batched:`, or split the class into two functions)",
        "17:44: functions.mixed.batched.embed_many.max_batch_size: must be at most 1000 (got 2000)",
        "20:14: functions.nothing.handler: a class needs at least one method to call (list them under `methods:` "
        "(or one under `batched:`))",
        "22:11: functions.typo.kind: unknown kind 'clss'; expected one of: function, cls (did you mean 'cls'?)",
    ]
