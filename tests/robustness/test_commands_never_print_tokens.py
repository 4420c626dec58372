"""No command prints a secret, nor a value that came from a variable where humans read it.

- Tokens in the process environment never appear in anything any command writes.
- Every string field of the schema (checked against the JSON schema: the fixtures below reference
  them all), in a base and in an overlay, is written as a `${VAR}`:
  * credential-named variables holding token-shaped values, and ordinary names holding token-shaped
    values, are refused, and no command (validate, plan in every format, diff in every format
    across environments, against a git ref and with --changed, explain, eject, deploy --dry-run,
    preflight offline, serve/run argument errors) prints any part of a token;
  * ordinary variables holding ordinary values plan fine, and none of their values appears in
    validate, the text and markdown plans, any diff, explain or deploy --dry-run; values bound for
    a container's env appear in no output at all (not even plan --format json or eject).
Each command runs in one process with file descriptors 1 and 2 redirected, so whatever any layer
writes (print, logging, a child process) is caught.
"""

from __future__ import annotations

import copy
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from engine.manifest.load import read_layer

REPO = Path(__file__).resolve().parents[2]
# Between them, these reference every string field of the schema (see the first test).
FIXTURES = [
    REPO / "tests" / "manifest" / "data" / "valid" / "everything.yaml",
    REPO / "tests" / "blueprint" / "data" / "kitchen-sink.yaml",
    REPO / "tests" / "blueprint" / "data" / "trtllm-quantized.toml",
    REPO / "tests" / "robustness" / "data" / "string-shorthands.yaml",
]

HANDLERS = REPO / "tests" / "robustness" / "data" / "project"
TOKENS = {
    "HF_TOKEN": "hf_FakeTokenForTestsOnly0001abcdefghijklmnop",
    "OPENAI_API_KEY": "sk-FakeKeyForTestsOnly0002abcdefghijkl",
    "AWS_ACCESS_KEY_ID": "AKIAFAKE0003TESTONLY",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY012",
    "MODAL_TOKEN_ID": "ak-0123456789abcdefFAKE01",
    "MODAL_TOKEN_SECRET": "as-0123456789abcdefFAKE02",
    "GITHUB_TOKEN": "ghp_FakeTokenForTestsOnly0004abcdefghijklmn",
    "SLACK_TOKEN": "xoxb-fake-0006-testsonly",
    "DB_PASSWORD": "q8ZfT3vLw0XyP2mNc7RbK5sJd1HgA9eU0007",
}

_DRIVER = r"""
import json, os, sys, tempfile
from engine.cli.main import main
outputs = {}
for argv in json.loads(sys.argv[1]):
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile() as capture:
        sys.stdout.flush(); sys.stderr.flush()
        os.dup2(capture.fileno(), 1); os.dup2(capture.fileno(), 2)
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
        capture.seek(0)
        outputs[" ".join(argv)] = f"exit {code}\n" + capture.read().decode("utf-8", "replace")
print(json.dumps(outputs))
"""

# The operate commands: with --dry-run each prints the Modal commands it would run.
OPERATE = ("status", "logs", "history", "rollback", "drift", "cost")
# Commands whose output humans read as a description of the app: no value from a variable there.
HUMAN = (
    "validate",
    "plan m.yaml --env main --format text",
    "plan m.yaml --env main --format markdown",
    "plan m.yaml --env prod --format text",
    "plan m.yaml --env prod --format markdown",
    "diff",
    "explain",
    "deploy",
    *OPERATE,
)


# --- the schema's string fields ------------------------------------------------------------------


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _branches(schema: dict, node: dict) -> list[dict]:
    node = _resolve(schema, node)
    found = [node]
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, ()):
            found += _branches(schema, branch)
    return found


def schema_string_fields(schema: dict, node: dict, path: str = "", depth: int = 0) -> set[str]:
    """`services.*.model.served_name`, `images.*.pip[]`: every place a string value may go."""
    found: set[str] = set()
    if depth > 12:
        return found
    for branch in _branches(schema, node):
        if branch.get("type") == "string" or "string" in (branch.get("type") or []) or "enum" in branch and path:
            found.add(path)
        for name, sub in (branch.get("properties") or {}).items():
            found |= schema_string_fields(schema, sub, f"{path}.{name}" if path else name, depth + 1)
        if isinstance(branch.get("additionalProperties"), dict):
            found |= schema_string_fields(schema, branch["additionalProperties"], f"{path}.*", depth + 1)
        if isinstance(branch.get("items"), dict):
            found |= schema_string_fields(schema, branch["items"], f"{path}[]", depth + 1)
    return found


def data_string_fields(schema: dict, node: dict, data, path: str = "") -> set[str]:
    """The same patterns for the string values `data` actually holds."""
    if isinstance(data, str):
        return {path}
    found: set[str] = set()
    for branch in _branches(schema, node):
        if isinstance(data, dict):
            for key, value in data.items():
                props = branch.get("properties") or {}
                if key in props:
                    found |= data_string_fields(schema, props[key], value, f"{path}.{key}" if path else key)
                elif isinstance(branch.get("additionalProperties"), dict):
                    found |= data_string_fields(schema, branch["additionalProperties"], value, f"{path}.*")
        elif isinstance(data, list) and isinstance(branch.get("items"), dict):
            for item in data:
                found |= data_string_fields(schema, branch["items"], item, f"{path}[]")
    return found


def test_the_fixtures_reference_every_string_field_of_the_schema():
    schema = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())
    wanted = schema_string_fields(schema, schema)
    covered = set().union(*(data_string_fields(schema, schema, read_layer(f).data) for f in FIXTURES))
    assert len(wanted) > 60
    assert sorted(wanted - covered) == []


# --- building manifests whose every string is a reference ----------------------------------------


def string_leaves(data, path=()):
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from string_leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from string_leaves(value, (*path, index))


def _referencing(data, names: dict[tuple, str]):
    """A copy of `data` with the string at each path replaced by `"${NAME}"`, double-quoted in
    the YAML written (a plain `${X}` would be retyped after expansion: "3.12" -> 3.12)."""
    data = copy.deepcopy(data)
    for path, name in names.items():
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = DoubleQuotedScalarString("${" + name + "}")
    return data


def _dump(data) -> str:
    yaml = YAML()  # round-trip: it writes DoubleQuotedScalarString quoted
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _referenced(data, name_of) -> tuple[dict, list[tuple[tuple, str]]]:
    """`data` with every string leaf i replaced by `${name_of(i)}`; (data, [(path, name)])."""
    refs = [(path, name_of(index)) for index, (path, _) in enumerate(list(string_leaves(data)))]
    return _referencing(data, dict(refs)), refs


CREDENTIAL_NAMES = ("T{}_TOKEN", "T{}_SECRET", "T{}_API_KEY", "T{}_PASSWORD", "MODAL_TOKEN_X{}", "T{}_CREDENTIALS")


def _token(index: int) -> str:
    values = list(TOKENS.values())
    base = values[index % len(values)]
    return base[:-4] + f"{index:04d}"[-4:] if not base.startswith("wJal") else base


# --- running every command ---------------------------------------------------------------------


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True, capture_output=True
    )


def _handler_project(root: Path) -> Path:
    """A folder holding the handler modules the fixtures name (validate reads them before it plans)."""
    if not root.exists():
        shutil.copytree(HANDLERS, root)
        for package in ("workloads", "helpers"):  # kitchen-sink's and string-shorthands'
            shutil.copytree(
                REPO / "tests" / "blueprint" / "data" / package,
                root / package,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
    return root


def _project(tmp_path: Path, head: tuple[str, str], now: tuple[str, str]) -> Path:
    """A git repository holding m.yaml + m.prod.yaml: `head` committed, `now` in the working tree."""
    root = _handler_project(tmp_path / "repo")
    _git(root, "init", "-q")
    for text, name in zip(head, ("m.yaml", "m.prod.yaml")):
        (root / name).write_text(text)
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "head")
    for text, name in zip(now, ("m.yaml", "m.prod.yaml")):
        (root / name).write_text(text)
    return root


def _every_command(explain_keys: list[str]) -> list[list[str]]:
    """Every command and format, for the base (environment main) and the overlay (prod)."""
    commands = [["validate", "--all-envs", "m.yaml"]]
    commands += [["diff", "m.yaml", "--env", "prod", "--against-env", "main", "--format", fmt] for fmt in FORMATS]
    commands += [["diff", "--changed", "--against", "HEAD", "--format", fmt, "."] for fmt in FORMATS]
    for env in ("main", "prod"):
        commands += [["plan", "m.yaml", "--env", env, "--format", fmt] for fmt in FORMATS]
        commands += [["diff", "m.yaml", "--env", env, "--against", "HEAD", "--format", fmt] for fmt in FORMATS]
        commands += [["explain", "m.yaml", "--env", env, key] for key in explain_keys]
        commands += [
            ["eject", "m.yaml", "--env", env],
            ["deploy", "m.yaml", "--env", env, "--dry-run"],
            ["preflight", "m.yaml", "--env", env],
            ["serve", "m.yaml", "no-such-service", "--env", env],
            ["run", "m.yaml", "no-such-function", "--env", env],
        ]
        commands += [[verb, "m.yaml", "--env", env, "--dry-run"] for verb in OPERATE]
    return commands


FORMATS = ("text", "markdown", "json")


def _run_all(commands: list[list[str]], cwd: Path, environ: dict[str, str]) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("MODAL_", "MDEPLOY_"))}
    env.update(TOKENS, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", MODAL_CONFIG_PATH=str(cwd / "no-modal.toml"))
    env.update(environ)
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, json.dumps(commands)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _assert_never_printed(outputs: dict[str, str], values: dict[str, str], *, commands=None, whole_only=False):
    for command, output in outputs.items():
        if commands is not None and not command.startswith(commands):
            continue
        assert "exit" in output and len(output) > len("exit 0\n"), f"{command} printed nothing"
        for name, value in values.items():
            assert value not in output, f"`mdeploy {command}` printed {name}'s value"
            if not whole_only:
                assert value[:16] not in output, f"`mdeploy {command}` printed part of {name}'s value"


# --- the scenarios ---------------------------------------------------------------------------------


def test_tokens_in_the_environment_are_never_printed(tmp_path):
    base, overlay = (REPO / "manifests" / "chat.yaml").read_text(), (REPO / "manifests" / "chat.prod.yaml").read_text()
    root = _project(tmp_path, (base, overlay), (base.replace("max_containers: 2", "max_containers: 3"), overlay))
    outputs = _run_all(_every_command(["services.llama.gpu", "servers.llama.command"]), root, {})
    assert outputs["validate --all-envs m.yaml"].startswith("exit 0")
    _assert_never_printed(outputs, TOKENS)


def _as_base_and_overlay(source: Path, names) -> tuple[str, str, dict[str, str]]:
    """Every string of `source` referenced in the base, and again (the whole manifest as an
    overlay) in the overlay; names[i] -> the variable of leaf i. Returns the two texts and the
    variables each leaf references."""
    data = read_layer(source).data
    base, base_refs = _referenced(data, lambda i: names(i))
    overlay, overlay_refs = _referenced(data, lambda i: names(1000 + i))
    return _dump(base), _dump(overlay), {name: "" for _, name in (*base_refs, *overlay_refs)}


@pytest.mark.parametrize("source", FIXTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("naming", ["credential-names", "ordinary-names"])
def test_token_values_behind_any_variable_are_refused_and_never_printed(tmp_path, source, naming):
    if naming == "credential-names":

        def names(i):
            return CREDENTIAL_NAMES[i % len(CREDENTIAL_NAMES)].format(i)
    else:

        def names(i):
            return f"PLAIN_{i}"

    base, overlay, variables = _as_base_and_overlay(source, names)
    environ = {name: _token(i) for i, name in enumerate(sorted(variables))}
    root = _project(tmp_path, (base, overlay), (base, overlay))
    outputs = _run_all(_every_command(["app", "services"]), root, environ)
    validate = outputs["validate --all-envs m.yaml"]
    assert validate.startswith("exit 1")
    phrase = "names a" if naming == "credential-names" else "looks like a credential"
    assert validate.count(phrase) >= len(variables) // 2
    for command, output in outputs.items():
        assert not output.startswith("exit 0"), f"{command} accepted a manifest that reads credentials"
    _assert_never_printed(outputs, environ)


def _distinctive(source: Path, prefix: str, offset: int, scratch: Path):
    """Every string leaf of `source` as a `${V<prefix>_<n>}`. Each leaf that accepts it (the
    manifest still plans) gets a value found nowhere else (`zq<prefix>0012q`); the others get
    their own value. Returns (manifest text, environ, {variable: distinctive value})."""
    from engine.planner.plan import plan_file_with_origins

    data = read_layer(source).data
    leaves = list(string_leaves(data))
    environ: dict[str, str] = {}
    distinctive: dict[str, str] = {}
    trial_file = _handler_project(scratch / "trial") / f"trial-{prefix}.yaml"
    # A server's command is never expanded from variables (its ${...} are the planner's placeholders).
    names = {
        path: f"V{prefix}_{offset + index}"
        for index, (path, _) in enumerate(leaves)
        if not (len(path) == 4 and path[0] == "services" and path[2] == "command")
    }
    for index, (path, original) in enumerate(leaves):
        if path not in names:
            continue
        name = names[path]
        value = f"zq{prefix}{offset + index:04d}q"
        trial_file.write_text(_dump(_referencing(data, {path: name})))
        try:
            plan_file_with_origins(trial_file, None, {name: value})
        except Exception:  # noqa: BLE001 - refused: this field needs a value of its own shape
            value = original
        else:
            distinctive[name] = value
        environ[name] = value
    return _dump(_referencing(data, names)), environ, distinctive


def _env_leaves(source: Path, prefix: str, offset: int) -> set[str]:
    """The variables of leaves bound for a container's env (their values must appear nowhere)."""
    return {
        f"V{prefix}_{offset + index}"
        for index, (path, _) in enumerate(string_leaves(read_layer(source).data))
        if len(path) >= 2 and path[-2] == "env" and path[0] in ("defaults", "services", "functions")
    }


@pytest.mark.parametrize("source", FIXTURES, ids=lambda p: p.name)
def test_ordinary_values_from_variables_are_shown_as_references(tmp_path, source):
    head_base, head_env, head_distinctive = _distinctive(source, "o", 0, tmp_path)
    now_base, now_env, now_distinctive = _distinctive(source, "n", 0, tmp_path)
    overlay, overlay_env, overlay_distinctive = _distinctive(source, "p", 5000, tmp_path)
    assert len(now_distinctive) >= 3  # free-text fields took a value found nowhere else
    root = _project(tmp_path, (head_base, overlay), (now_base, overlay))
    environ = {**head_env, **now_env, **overlay_env}
    explain = ["app", "services", "functions", "servers", "images"]
    outputs = _run_all(_every_command(explain), root, environ)
    for command, found in outputs.items():
        if command.startswith(("validate", "plan", "diff", "explain", "deploy", "eject")):
            assert found.startswith("exit 0"), (command, found[-2000:])
    distinctive = {**head_distinctive, **now_distinctive, **overlay_distinctive}
    _assert_never_printed(outputs, distinctive, commands=HUMAN, whole_only=True)
    env_bound = _env_leaves(source, "o", 0) | _env_leaves(source, "n", 0) | _env_leaves(source, "p", 5000)
    _assert_never_printed(outputs, {k: v for k, v in distinctive.items() if k in env_bound}, whole_only=True)
    assert "${Vn_" in outputs["plan m.yaml --env main --format text"]  # the base's references
    assert "${Vp_" in outputs["plan m.yaml --env prod --format text"]  # the overlay's
    assert "${Vo_" in outputs["diff m.yaml --env main --against HEAD --format text"]  # both sides of a diff
    assert "${Vn_" in outputs["diff m.yaml --env main --against HEAD --format text"]


def test_the_scan_can_fail(tmp_path):
    """Guard: a value printed on purpose is caught."""
    with pytest.raises(AssertionError, match="printed"):
        _assert_never_printed({"plan": "exit 0\nzqn0001q"}, {"V": "zqn0001q"}, whole_only=True)
    assert shutil.which("git")
