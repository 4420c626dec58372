"""`mdeploy run --remote` / `--map`: the deployed function, looked up and called through Modal's
client, here a fake of it (tests/support/fake_modal_functions.py) that records what it was asked."""

from __future__ import annotations

import dataclasses
import json

from engine.blueprint.codec import to_json
from engine.blueprint.model import WebSpec
from tests.support.fake_modal_functions import FakeFunctions


def _blueprint(bp, tmp_path, environment="main"):
    functions = [
        bp.function("add", handler="jobs.tasks:add"),
        bp.function("boom", handler="jobs.tasks:boom"),
        bp.function("hook", handler="jobs.tasks:hook", web=WebSpec(kind="fastapi_endpoint", method="POST")),
    ]
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(dataclasses.replace(bp.blueprint(functions=functions), environment=environment)))
    return str(path)


def test_remote_calls_the_deployed_function_with_its_modal_names(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    path = _blueprint(bp, tmp_path, environment="prod")  # a Blueprint is planned for the environment called
    done = run_mdeploy("run", "--remote", "--env", "prod", path, "add", "--", "2", "b=3", env=fake.env(repo_root))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"args": [2], "kwargs": {"b": 3}}
    # No handler module exists here: nothing was imported or run locally.
    assert fake.calls() == [{"from_name": ["demo", "add", "prod"], "remote": [[2], {"b": 3}]}]


def test_a_blueprint_file_is_called_in_the_environment_it_was_planned_for(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    path = _blueprint(bp, tmp_path, environment="prod")
    done = run_mdeploy("run", "--remote", path, "add", "--", "2", env=fake.env(repo_root))
    assert done.returncode == 0, done.stderr
    assert fake.calls() == [{"from_name": ["demo", "add", "prod"], "remote": [[2], {}]}]


def test_map_sends_one_input_per_line_and_prints_results_in_order(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text('1\n\n"two"\n{"three": 3}\n')
    done = run_mdeploy("run", _blueprint(bp, tmp_path), "add", "--map", str(inputs), env=fake.env(repo_root))
    assert done.returncode == 0, done.stderr
    assert [json.loads(line) for line in done.stdout.splitlines()] == [
        {"input": 1},
        {"input": "two"},
        {"input": {"three": 3}},
    ]
    assert fake.calls() == [{"from_name": ["demo", "add", None], "map": [1, "two", {"three": 3}], "ordered": True}]


def test_a_bad_line_of_the_inputs_file_is_named_by_file_and_line(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text('1\n{"a": }\n')
    done = run_mdeploy("run", _blueprint(bp, tmp_path), "add", "--map", str(inputs), env=fake.env(repo_root))
    assert done.returncode != 0
    assert f"{inputs}:2:7: not a JSON value" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.calls() == []  # nothing sent before every input is read


def test_an_unknown_function_says_what_it_might_have_meant(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    done = run_mdeploy("run", "--remote", _blueprint(bp, tmp_path), "ad", env=fake.env(repo_root))
    assert done.returncode != 0
    assert "manifests/demo.yaml: no function 'ad' (did you mean 'add'? functions: add, boom, hook)" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.calls() == []


def test_without_credentials_it_says_so_and_calls_nothing(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    env = fake.env(repo_root, MODAL_TOKEN_ID="", MODAL_TOKEN_SECRET="")
    done = run_mdeploy("run", "--remote", _blueprint(bp, tmp_path), "add", "--", "1", env=env)
    assert done.returncode != 0
    assert "no Modal credentials" in done.stderr
    assert "Traceback" not in done.stderr
    assert fake.calls() == []
    # `run` has no --dry-run: the message once suggested `mdeploy run --dry-run`.
    assert "--dry-run" not in done.stderr


def test_a_function_not_deployed_is_one_line(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {})
    done = run_mdeploy("run", "--remote", _blueprint(bp, tmp_path), "add", "--", "1", env=fake.env(repo_root))
    assert done.returncode != 0
    assert "function 'add' of app 'demo' is not deployed" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_remote_handlers_failure_is_reported_without_our_traceback(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/boom": "raise"})
    done = run_mdeploy("run", "--remote", _blueprint(bp, tmp_path), "boom", env=fake.env(repo_root))
    assert done.returncode != 0
    assert "function 'boom' of app 'demo' raised RuntimeError: remote handler failed" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_http_endpoint_is_not_called_with_remote(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/hook": "echo"})
    done = run_mdeploy("run", "--remote", _blueprint(bp, tmp_path), "hook", env=fake.env(repo_root))
    assert done.returncode != 0
    assert "'hook' is an HTTP endpoint" in done.stderr
    assert fake.calls() == []


def test_map_takes_no_arguments_besides_its_file(bp, tmp_path, run_mdeploy, repo_root):
    fake = FakeFunctions(tmp_path, {"demo/add": "echo"})
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text("1\n")
    path = _blueprint(bp, tmp_path)
    done = run_mdeploy("run", "--map", str(inputs), path, "add", "--", "2", env=fake.env(repo_root))
    assert done.returncode != 0
    assert "--map takes its inputs from the file" in done.stderr
