"""`mdeploy run` through the real CLI, on a Blueprint JSON file and a handler package in a temp project."""

import json
import textwrap

from engine.blueprint.codec import to_json


def _project(tmp_path, bp, secrets=(), secret_specs=()):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    (tmp_path / "jobs" / "tasks.py").write_text(
        textwrap.dedent("""
        import os

        def add(a, b=0):
            return {"sum": a + b, "mode": os.environ.get("MODE")}

        def token_length():
            return len(os.environ["API_TOKEN"])

        def boom():
            raise RuntimeError("broken on purpose")

        def score():
            return {"score": float("nan")}

        limit = 3
    """)
    )
    functions = [
        bp.function("add", handler="jobs.tasks:add", env={"MODE": "local"}),
        bp.function("token", handler="jobs.tasks:token_length", secrets=secrets),
        bp.function("boom", handler="jobs.tasks:boom"),
        bp.function("score", handler="jobs.tasks:score"),
        bp.function("limit", handler="jobs.tasks:limit"),
    ]
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(functions=functions, secrets=secret_specs)))
    return path


def test_run_prints_the_json_result(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", str(path), "add", "--", "2", "b=3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sum": 5, "mode": "local"}


def test_run_takes_secret_keys_from_dotenv(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp, secrets=("api",), secret_specs=[bp.SecretSpec("api", "api-secret", ("API_TOKEN",))])
    (tmp_path / ".env").write_text("API_TOKEN=abcdef\n")
    done = run_mdeploy("run", str(path), "token", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "6"
    assert "abcdef" not in done.stdout + done.stderr


def test_run_without_a_required_secret_key_fails_in_one_line(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp, secrets=("api",), secret_specs=[bp.SecretSpec("api", "api-secret", ("API_TOKEN",))])
    done = run_mdeploy("run", str(path), "token", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: function 'token' needs secret 'api'")


def test_a_failing_handler_shows_its_traceback_and_exits_1(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", str(path), "boom", cwd=tmp_path)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "internal error" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "error: jobs.tasks:boom raised RuntimeError: broken on purpose"


def test_a_failing_handler_traceback_starts_at_the_users_code(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", str(path), "boom", cwd=tmp_path)
    frames = [line for line in done.stderr.splitlines() if line.startswith('  File "')]
    assert frames and all("jobs/tasks.py" in line for line in frames), done.stderr


def test_a_nan_result_fails_naming_the_handler_and_prints_nothing(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", str(path), "score", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines()[-1].startswith("error: jobs.tasks:score returned NaN or Infinity")


def test_a_handler_that_is_not_callable_fails_naming_its_reference(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", str(path), "limit", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: handler 'jobs.tasks:limit' is not callable: it names a value of type int; point it at a function"
    )


def test_run_from_a_manifest_gives_env_entries_from_variables_their_values(tmp_path, run_mdeploy):
    """The Blueprint holds `${MODE_NAME:-dev}`; the handler sees the value the loader expanded."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "__init__.py").write_text("")
    (tmp_path / "jobs" / "tasks.py").write_text("import os\n\ndef mode():\n    return os.environ['MODE']\n")
    (tmp_path / "app.yaml").write_text(
        "version: 1\napp: vars\nfunctions:\n  mode:\n    handler: jobs.tasks:mode\n    env: {MODE: 'm-${MODE_NAME:-dev}'}\n"
    )
    done = run_mdeploy("run", "app.yaml", "mode", cwd=tmp_path, env={"MODE_NAME": "batch"})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "m-batch"


def test_run_imports_handlers_from_the_manifests_project_root(tmp_path, run_mdeploy):
    """Run from elsewhere, a manifest's handlers come from its project root (engine/project/root.py),
    the folder that validation read them from and the deploy ships them from."""
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    (project / "setup.cfg").write_text("")
    (project / "jobs").mkdir()
    (project / "jobs" / "__init__.py").write_text("")
    (project / "jobs" / "tasks.py").write_text("def add(a, b=0):\n    return {'sum': a + b}\n")
    manifest = project / "deploy" / "app.yaml"
    manifest.write_text("version: 1\napp: elsewhere\nfunctions:\n  add:\n    handler: jobs.tasks:add\n")
    (tmp_path / "other").mkdir()
    done = run_mdeploy("run", str(manifest), "add", "--", "2", "b=3", cwd=tmp_path / "other")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sum": 5}


def test_options_between_the_function_and_its_arguments_are_read_as_options(bp, tmp_path, run_mdeploy):
    # `run M F --env-file X -- 2` once failed with argparse's "unrecognized arguments: -- 2".
    path = _project(tmp_path, bp)
    (tmp_path / "secrets.env").write_text("UNUSED=1\n")
    done = run_mdeploy("run", str(path), "add", "--env-file", "secrets.env", "--", "2", "b=3", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"sum": 5, "mode": "local"}


def test_a_named_env_file_that_does_not_exist_is_one_line_and_nothing_runs(bp, tmp_path, run_mdeploy):
    # A mistyped --env-file once read as "no secrets", silently.
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", "--env-file", "secrets.env", str(path), "add", "--", "2", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        "error: --env-file secrets.env: does not exist; name a file of KEY=value lines, or leave the option out for .env"
    ]


def test_an_env_file_that_is_a_folder_is_one_line(bp, tmp_path, run_mdeploy):
    path = _project(tmp_path, bp)
    (tmp_path / "conf").mkdir()
    done = run_mdeploy("run", str(path), "add", "--env-file", "conf", "--", "2", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: --env-file conf: is a folder; ")


def test_a_keyword_whose_value_is_not_json_is_told_how_to_quote_that_value(bp, tmp_path, run_mdeploy):
    """`b=abc` was told "write a string with quotes, e.g. '"abc"', or a keyword as NAME=VALUE":
    it was a keyword already, and the quoted positional it suggested is another call."""
    path = _project(tmp_path, bp)
    done = run_mdeploy("run", str(path), "add", "--", "2", "b=abc", cwd=tmp_path)
    assert done.returncode == 1
    assert (
        done.stderr == "error: argument 2: the value of b= is not JSON: write a string with quotes, e.g. b='\"abc\"'\n"
    )
