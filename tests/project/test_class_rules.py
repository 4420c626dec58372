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

class Takes:
    def __init__(self, model_name, top=3):
        self.model_name = model_name

    def run(self, x):
        return x
"""


def _validate(tmp_path: Path, functions: str) -> tuple[int, list[str]]:
    (tmp_path / ".git").mkdir(parents=True)
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
        "builds one instance per container with no arguments (give those parameters defaults, make them class "
        "`parameters:`, or read them from env "
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


def test_class_parameters_follow_modals_types_and_the_constructor_takes_them(tmp_path):
    code, problems = _validate(
        tmp_path,
        """\
          types:
            kind: cls
            handler: jobs.embed:Takes
            parameters: {model_name: string, top: {type: int, default: "3"}, on: {type: bool, default: 1}}
            methods: [run]
          names:
            kind: cls
            handler: jobs.embed:Takes
            parameters: {model_name: str, class: str, _x: str, salt: {type: bytes, default: 4}, run: int}
            methods: [run]
        """,
    )
    assert code == 1
    assert problems == [
        "7:30: functions.types.parameters.model_name: must be one of: str, int, bool, bytes (got 'string') "
        "(did you mean 'str'?)",
        "7:64: functions.types.parameters.top.default: the default of an int parameter must be an integer, not text "
        "(write an integer)",
        "7:96: functions.types.parameters.on.default: the default of a bool parameter must be true or false, not an "
        "integer (write true or false)",
        "12:35: functions.names.parameters.class: 'class' is a Python keyword, not a parameter name (name it as a "
        "Python attribute)",
        "12:47: functions.names.parameters._x: '_x' is not a parameter name: a Python identifier that starts with a "
        "letter (names with a leading _ are mdeploy's own) (name it as a Python attribute, e.g. model_name)",
        "12:85: functions.names.parameters.salt.default: the default of a bytes parameter must be text, not an "
        'integer (quote it to make it text, e.g. default: "1")',
    ]


def test_the_constructor_takes_the_class_parameters_and_no_parameter_shadows_a_method(tmp_path):
    code, problems = _validate(
        tmp_path,
        """\
          no-init:
            kind: cls
            handler: jobs.embed:Good
            parameters: {model_name: str}
            methods: [load]
          missing:
            kind: cls
            handler: jobs.embed:Takes
            parameters: {top: int}
            methods: [run]
          unknown:
            kind: cls
            handler: jobs.embed:Takes
            parameters: {model_name: str, other: int}
            methods: [run]
          fine:
            kind: cls
            handler: jobs.embed:Takes
            parameters: {model_name: str, top: {type: int, default: 5}}
            methods: [run]
        """,
    )
    assert code == 1
    assert problems == [
        "7:30: functions.no-init.parameters.model_name: 'jobs.embed:Good' (jobs/embed.py:23) has no __init__ to take "
        "its class parameters as keyword arguments (define __init__(self, model_name) in class Good)",
        "11:14: functions.missing.handler: 'jobs.embed:Takes' (jobs/embed.py:36) requires 'model_name' to be built; "
        "mdeploy builds one instance per container with its class parameters as keyword arguments (give those "
        "parameters defaults, make them class `parameters:`, or read them from env in an enter method)",
        "17:42: functions.unknown.parameters.other: 'jobs.embed:Takes' (jobs/embed.py:36): __init__ takes no keyword "
        "argument 'other', and mdeploy passes each class parameter as one (add other to __init__'s parameters, or "
        "rename the parameter)",
    ]
    code, problems = _validate(
        tmp_path / "shadow",
        """\
          shadow:
            kind: cls
            handler: jobs.embed:Takes
            parameters: {model_name: str, run: int}
            methods: [run]
        """,
    )
    assert (code, problems) == (
        1,
        [
            "7:40: functions.shadow.parameters.run: parameter 'run' has the name of a method listed in `methods` (a "
            "parameter is an attribute of the class, as a method is: rename one of them)"
        ],
    )


def test_memory_snapshot_enter_phases_are_checked_where_they_are_written(tmp_path):
    code, problems = _validate(
        tmp_path,
        """\
          phases-without-snapshot:
            kind: cls
            handler: jobs.embed:Good
            enter: {before_snapshot: [load]}
            methods: [run]
          list-with-snapshot:
            kind: cls
            handler: jobs.embed:Good
            memory_snapshot: true
            enter: [load]
            methods: [run]
          gpu-without-gpu:
            kind: cls
            handler: jobs.embed:Good
            memory_snapshot: {gpu: true}
            enter: {before_snapshot: [load], after_restor: [close]}
            methods: [run]
          gpu-without-snapshot:
            kind: cls
            handler: jobs.embed:Good
            memory_snapshot: {gpu: true, enabled: false}
            gpu: L4
            methods: [run]
          yaml-yes:
            kind: cls
            handler: jobs.embed:Good
            memory_snapshot: yes
            methods: [run]
        """,
    )
    assert code == 1
    assert problems == [
        "7:30: functions.phases-without-snapshot.enter.before_snapshot: enter phases need a memory snapshot: without "
        "one there is no snapshot to run before or restore from (add `memory_snapshot: true`, or list the enter "
        "methods as `enter: [...]`)",
        "13:12: functions.list-with-snapshot.enter: with a memory snapshot, say when each enter method runs (write "
        "enter: {before_snapshot: [...]} for methods whose work the snapshot keeps (loading), and {after_restore: "
        "[...]} for those every restored container runs (Modal's plain @modal.enter()))",
        "19:38: functions.gpu-without-gpu.enter.after_restor: unknown key 'after_restor' (did you mean "
        "'after_restore'?)",
        "24:28: functions.gpu-without-snapshot.memory_snapshot.gpu: a GPU snapshot needs the memory snapshot (set "
        "enabled: true or gpu: false)",
        "30:22: functions.yaml-yes.memory_snapshot: expected true, false or a mapping {enabled, gpu}, got 'yes' "
        "(write true or false)",
    ]
    code, problems = _validate(
        tmp_path / "gpu",
        """\
          gpu-without-gpu:
            kind: cls
            handler: jobs.embed:Good
            memory_snapshot: {gpu: true}
            enter: {before_snapshot: [load]}
            methods: [run]
        """,
    )
    assert (code, problems) == (
        1,
        [
            "7:28: functions.gpu-without-gpu.memory_snapshot.gpu: a GPU snapshot needs a GPU (set `gpu:` on this "
            "function, or make it memory_snapshot: true)"
        ],
    )
