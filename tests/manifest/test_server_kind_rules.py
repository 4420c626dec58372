"""`kind: server` mistakes, each a located error of `mdeploy validate` (one run reports them all),
never a traceback; and what the loader leaves to the planner in a server's command."""

from __future__ import annotations

from engine.blueprint.server_command import PLACEHOLDERS
from engine.manifest.models.server import COMMAND_PLACEHOLDERS

MISTAKES = """\
version: 1
app: bad
images:
  i: {}
services:
  a:
    kind: server
    image: i
    command: [srv, --port, "${PROT}"]
  b:
    kind: server
    image: i
    command: [srv]
    port: 70000
  c:
    kind: server
    image: i
  d:
    kind: server
    image: i
    command: [srv]
    warmup: {path: /embed, status: "200"}
  e:
    kind: server
    image: i
    command: [srv]
    warmup: true
  f:
    kind: server
    image: i
    command: [srv]
    timeout: 10m
  g:
    kind: server
    image: i
    command: [srv, "${HOME}", "$${PORT}", "${PORT"]
  h:
    kind: server
    image: i
    command: [srv]
    health: {path: health, ready: sometimes}
  j:
    kind: server
    image: i
    command: [srv]
    warmup: {path: /x, method: GET, body: {a: 1}}
  l:
    kind: server
    image: i
    command: [srv]
    warmup: {path: /x, status: 99}
  k:
    kind: server
    image: i
    command: []
"""


def test_each_mistake_is_located_at_its_value(run_mdeploy, tmp_path):
    manifest = tmp_path / "bad.yaml"
    manifest.write_text(MISTAKES, encoding="utf-8")
    result = run_mdeploy("validate", str(manifest))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    out = result.stdout
    expected = [
        "bad.yaml:9:28: services.a.command[2]: unknown placeholder ${PROT}: a server's command may hold "
        "${PORT}, ${HOST} (did you mean ${PORT}?)",
        "bad.yaml:14:11: services.b.port: must be at most 65535 (got 70000)",
        "bad.yaml:15:3: services.c.command: missing required key 'command'",
        "bad.yaml:22:36: services.d.warmup.status: expected a number, got the text '200'",
        "bad.yaml:27:13: services.e.warmup: a server's warm-up needs a path",
        "bad.yaml:32:14: services.f.timeout: a server takes no timeout",
        "bad.yaml:36:20: services.g.command[1]: unknown placeholder ${HOME}",
        "bad.yaml:41:20: services.h.health.path: 'health' does not have the expected form",
        "services.h.health.ready:",
        "services.j.warmup.body: a GET warm-up sends no body",
        "services.l.warmup.status: must be at least 100 (got 99)",
        "services.k.command:",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, out
    assert "run the command through a shell" in out  # ${HOME} is the container's, not ours


def test_an_unclosed_placeholder_is_refused_and_a_dollar_dollar_is_not_one(run_mdeploy, tmp_path):
    manifest = tmp_path / "one.yaml"
    manifest.write_text(
        "version: 1\napp: one\nimages: {i: {}}\nservices:\n  s:\n    kind: server\n    image: i\n"
        '    command: [srv, "$${PORT}", "${PORT"]\n',
        encoding="utf-8",
    )
    result = run_mdeploy("validate", str(manifest))
    assert result.returncode == 1
    assert "one.yaml:8:32: services.s.command[2]: unclosed placeholder '${PORT'" in result.stdout
    assert "command[1]" not in result.stdout


def test_a_server_without_an_image_is_told_to_name_one(run_mdeploy, tmp_path):
    manifest = tmp_path / "noimage.yaml"
    manifest.write_text("version: 1\napp: n\nservices:\n  s:\n    kind: server\n    command: [srv]\n", encoding="utf-8")
    result = run_mdeploy("validate", str(manifest))
    assert result.returncode == 1
    assert "noimage.yaml:4:3: services.s.image: a server needs an image" in result.stdout


def test_the_command_is_not_expanded_from_the_deploying_shell(run_mdeploy, tmp_path):
    manifest = tmp_path / "ok.yaml"
    manifest.write_text(
        "version: 1\napp: ok\nimages: {i: {}}\nservices:\n  s:\n    kind: server\n    image: i\n"
        '    command: [srv, "--port=${PORT}", "$$HOME"]\n    port: 9000\n',
        encoding="utf-8",
    )
    result = run_mdeploy("plan", str(manifest), env={"PORT": "1234"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "srv --port=9000 '$HOME'" in result.stdout


def test_the_manifest_and_the_planner_know_the_same_placeholders():
    assert COMMAND_PLACEHOLDERS == PLACEHOLDERS
