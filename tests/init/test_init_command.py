"""`mdeploy init` through the real CLI: every kind and engine writes files `mdeploy validate`
accepts; it never overwrites; a Hub model is pinned from the Hub (a fake one here), or offline
from the local cache, or nothing is written and the error says how to get the commit; it asks
on a terminal and only there."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REVISION = "7ae557604adf67be50417f59c2c2f167def9a775"
HUB_SHA = "0123456789abcdef0123456789abcdef01234567"
MODEL = "Qwen/Qwen2.5-0.5B-Instruct"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'mine'\n")
    return root


@pytest.fixture
def init(run_mdeploy, project, tmp_path):
    """`mdeploy init ARGS` in the project, offline unless HF_ENDPOINT is given."""

    def run(*args: str, **env: str):
        base = {
            "HF_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
            "HF_HOME": str(tmp_path / "hf"),
            "HF_HUB_OFFLINE": "",
        }
        return run_mdeploy("init", *args, cwd=project, env={**base, **env})

    return run


def _validate(run_mdeploy, project, *paths: str):
    done = run_mdeploy("validate", "--all-envs", *paths, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed, 0 warnings" in done.stdout.splitlines()[-1]
    return done


@pytest.mark.parametrize("engine", ["vllm", "sglang", "trtllm", "transformers"])
def test_an_llm_service_on_each_engine_validates_with_its_overlay(engine, init, run_mdeploy, project):
    done = init("--kind", "llm", "--engine", engine, "--model", MODEL, "--revision", REVISION, "--overlay", "prod")
    assert done.returncode == 0, done.stderr
    manifest = "manifests/qwen2-5-0-5b-instruct.yaml"
    assert f"wrote {manifest} (manifest)" in done.stdout
    assert "wrote manifests/qwen2-5-0-5b-instruct.prod.yaml (prod overlay)" in done.stdout
    text = (project / manifest).read_text()
    assert text.startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json\n")
    assert f"engine: {engine}" in text and f"revision: {REVISION}" in text
    _validate(run_mdeploy, project, "manifests/")


@pytest.mark.parametrize("kind", ["web", "function"])
def test_a_web_app_or_function_validates_with_its_handler_module(kind, init, run_mdeploy, project):
    done = init("--kind", kind, "--overlay", "prod")
    assert done.returncode == 0, done.stderr
    module = "workloads/web_app.py" if kind == "web" else "workloads/jobs.py"
    assert (project / module).is_file() and (project / "workloads" / "__init__.py").is_file()
    _validate(run_mdeploy, project, "manifests/")


def test_the_function_it_writes_runs_here(init, run_mdeploy, project):
    assert init("--kind", "function", "--app", "nightly", "--schedule", "4h").returncode == 0
    done = run_mdeploy("run", "manifests/nightly.yaml", "job", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["app"] == "nightly"


def test_a_model_folder_needs_no_revision(init, run_mdeploy, project):
    done = init(
        "--kind", "llm", "--engine", "transformers", "--model-path", ".mdeploy/models/tiny-chat", "--app", "tiny"
    )
    assert done.returncode == 0, done.stderr
    assert "path: .mdeploy/models/tiny-chat" in (project / "manifests" / "tiny.yaml").read_text()
    _validate(run_mdeploy, project, "manifests/tiny.yaml")


def test_it_never_overwrites(init, project):
    assert init("--kind", "web").returncode == 0
    manifest = project / "manifests" / "web-app.yaml"
    manifest.write_text(manifest.read_text() + "# mine\n")
    before = manifest.read_text()
    again = init("--kind", "web")
    assert again.returncode == 1
    assert again.stderr == (
        "error: manifests/web-app.yaml exists; mdeploy init never overwrites a file: choose another name (--app, or a path)\n"
    )
    assert manifest.read_text() == before


def test_an_existing_overlay_of_another_format_is_not_doubled(init, project):
    (project / "manifests").mkdir()
    (project / "manifests" / "jobs.prod.toml").write_text("")
    done = init("--kind", "function", "--overlay", "prod")
    assert done.returncode == 1
    assert "manifests/jobs.prod.toml exists and is the prod overlay already" in done.stderr
    assert sorted(p.name for p in (project / "manifests").iterdir()) == ["jobs.prod.toml"]


def test_offline_without_a_cached_model_writes_nothing_and_says_how_to_pin(init, project):
    done = init("--kind", "llm", "--model", MODEL)
    assert done.returncode == 1
    line = done.stderr.strip()
    assert line.startswith(f"error: cannot pin a revision of {MODEL}: the Hub at http://127.0.0.1:")
    assert (
        "is not reachable (Connection refused), and the model is not in the local cache, so nothing was written."
        in line
    )
    assert line.endswith(
        f"run: mdeploy init manifests/qwen2-5-0-5b-instruct.yaml --kind llm --engine vllm --model {MODEL} "
        "--app qwen2-5-0-5b-instruct --name chat --gpu L40S --revision COMMIT"
    )
    assert list(project.iterdir()) == [project / "pyproject.toml"]


def test_the_command_the_offline_error_names_writes_the_manifest(init, run_mdeploy, project):
    rerun = init("--kind", "llm", "--model", MODEL).stderr.strip().rsplit("run: mdeploy init ", 1)[1]
    import shlex

    done = init(*shlex.split(rerun.replace("COMMIT", REVISION)))
    assert done.returncode == 0, done.stderr
    _validate(run_mdeploy, project, "manifests/")


def test_hf_hub_offline_pins_from_the_local_cache(init, run_mdeploy, project, tmp_path):
    refs = tmp_path / "hf" / "hub" / "models--Qwen--Qwen2.5-0.5B-Instruct" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text(REVISION)
    done = init("--kind", "llm", "--model", MODEL, HF_HUB_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"pinned {MODEL} to {REVISION} (main when it was last downloaded here (HF_HUB_OFFLINE is set))"
    )
    _validate(run_mdeploy, project, "manifests/")


class _FakeHub:
    """GET /api/models/ORG/NAME answers with a commit, as the Hub's model_info does."""

    def __init__(self):
        self.paths: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.paths.append(self.path)
                known = self.path.startswith(f"/api/models/{MODEL}")
                body = json.dumps(
                    {"id": MODEL, "sha": HUB_SHA} if known else {"error": "Repository not found"}
                ).encode()
                self.send_response(200 if known else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if not known:
                    self.send_header("X-Error-Code", "RepoNotFound")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def fake_hub():
    hub = _FakeHub()
    yield hub
    hub.server.shutdown()


def test_online_it_pins_the_commit_main_points_at(init, run_mdeploy, project, fake_hub):
    done = init("--kind", "llm", "--model", MODEL, HF_ENDPOINT=fake_hub.url)
    assert done.returncode == 0, done.stderr
    assert f"/api/models/{MODEL}" in fake_hub.paths
    assert f"revision: {HUB_SHA}" in (project / "manifests" / "qwen2-5-0-5b-instruct.yaml").read_text()
    _validate(run_mdeploy, project, "manifests/")


def test_a_model_the_hub_does_not_know_is_one_line(init, project, fake_hub):
    done = init("--kind", "llm", "--model", "nobody/nothing", HF_ENDPOINT=fake_hub.url)
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: nobody/nothing is not on the Hub at {fake_hub.url} (or is private)")
    assert not (project / "manifests").exists()


def test_a_manifest_that_would_not_validate_is_taken_back_with_its_folders(init, project):
    done = init("--kind", "llm", "--model", MODEL, "--revision", REVISION, "--gpu", "H9000")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "error: the manifest would not validate, so nothing was written: --gpu 'H9000' (services.chat.gpu): "
    )
    assert not (project / "manifests").exists()


@pytest.mark.parametrize(
    "flags, says",
    [
        (
            ("--kind", "function", "--schedule", "5x"),
            "--schedule '5x' (functions.job.schedule.every): is not a duration",
        ),
        (("--kind", "function", "--schedule", "0 3 * *"), "--schedule '0 3 * *' (functions.job.schedule.cron): "),
        # the handler's module is named after the app: the error names --app, not a --handler never given
        (("--kind", "web", "--app", "Bad App"), "error: --app 'Bad App' is not a valid Modal name (letters, digits"),
        (("--kind", "function", "--name", "a/b"), "error: --name 'a/b' is not a valid Modal name"),
    ],
)
def test_a_value_that_would_not_validate_names_the_flag_that_gave_it(init, project, flags, says):
    done = init(*flags)
    assert done.returncode == 1
    assert says in done.stderr, done.stderr
    assert not (project / "manifests").exists()


@pytest.mark.parametrize(
    "flags, ends",
    [((), "or --model-path DIR, one of them"), (("--model", MODEL, "--model-path", "m"), "--model-path DIR, not both")],
)
def test_an_llm_needs_exactly_one_model_and_the_message_says_which_was_wrong(init, project, flags, ends):
    done = init("--kind", "llm", *flags)
    assert done.returncode == 1
    assert done.stderr.strip().endswith(ends), done.stderr


def test_a_handler_module_of_the_users_is_kept_and_checked(init, project):
    (project / "app").mkdir()
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "main.py").write_text("def other():\n    pass\n")
    done = init("--kind", "function", "--handler", "app.main:nightly")
    assert done.returncode == 1
    assert "functions.job.handler: " in done.stderr and "nightly" in done.stderr
    assert (project / "app" / "main.py").read_text() == "def other():\n    pass\n"
    assert not (project / "manifests").exists()


def test_without_a_terminal_the_kind_is_a_flag(init, project):
    done = init()
    assert done.returncode == 1
    assert done.stderr == "error: say what to write: --kind llm|web|function (init asks only on a terminal)\n"


def test_on_a_terminal_it_asks_for_what_no_flag_said(project, run_mdeploy):
    """Answers typed at a real pseudo-terminal: kind, app name, handler, schedule, path, overlay."""
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MODAL_ENVIRONMENT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine", "init"],
        cwd=project,
        env=env,
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(follower)
    answers = ["function", "reports", "", "", "", "prod"]
    os.write(leader, "".join(a + "\n" for a in answers).encode())
    stdout, stderr = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, stderr
    assert (
        "What will it run? llm (a model behind an OpenAI API), web (a FastAPI app), function (a scheduled job) [llm]: "
        in stdout
    )
    assert 'Schedule: a cron line in UTC, or an interval like "4h" [0 3 * * *]: ' in stdout
    assert (project / "manifests" / "reports.yaml").is_file()
    assert (project / "manifests" / "reports.prod.yaml").is_file()
    assert (project / "workloads" / "reports.py").is_file()
    _validate(run_mdeploy, project, "manifests/")
