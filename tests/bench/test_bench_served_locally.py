"""`mdeploy bench MANIFEST:SERVICE` serves the service for the run and stops it afterwards."""

import json
import sys
from pathlib import Path

from engine.blueprint.codec import to_json
from engine.blueprint.model import Blueprint, ContainerSpec, ServerSpec

REPO = Path(__file__).resolve().parents[2]


def _blueprint_file(tmp_path, command):
    server = ServerSpec(
        key="chat",
        symbol="Chat",
        name="chat",
        engine="vllm",
        model="fake-model",
        served_model_name="fake-model",
        container=ContainerSpec(image="img"),
        command=command,
        startup_timeout=30,
    )
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(Blueprint(app="demo", environment="main", source="demo.yaml", servers=(server,))))
    return path


def test_bench_serves_the_service_and_reports(tmp_path, run_mdeploy):
    fake = (sys.executable, str(REPO / "benchmarks" / "fake_openai_server.py"), "--port", "8000")
    path = _blueprint_file(tmp_path, fake)
    done = run_mdeploy(
        "bench",
        f"{path}:chat",
        "--concurrency",
        "1,2",
        "--requests",
        "3",
        "--max-tokens",
        "4",
        "--no-plots",
        "--output",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [level["succeeded"] for level in report["levels"]] == [3, 3]
    # The engine's log goes to a file, not between the progress lines.
    assert (tmp_path / ".mdeploy" / "logs" / "chat.log").exists()


def test_bench_reports_an_engine_that_fails_to_start_in_one_line(tmp_path, run_mdeploy):
    path = _blueprint_file(tmp_path, (sys.executable, "-c", "raise SystemExit('no model here')"))
    done = run_mdeploy("bench", f"{path}:chat", "--concurrency", "1", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "error: the engine exited with code 1 during start-up; its last log line: no model here"
    )
