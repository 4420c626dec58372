"""Local state (.mdeploy/: volumes, buckets, engine logs, bench reports) lives at the project root
of the manifest, whichever folder the command runs in; each command is run from a folder below
the project, through the real CLI, with the fake OpenAI server standing in for an engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.blueprint.codec import to_json


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "deploy" / "nested").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    return root


def _blueprint_with_a_volume(bp, root: Path) -> Path:
    mount = bp.MountSpec("/cache", "volume", "cache")
    server = bp.fake_engine_server(mounts=(mount,))
    path = root / "deploy" / "blueprint.json"
    path.write_text(to_json(bp.blueprint(servers=[server], volumes=[bp.VolumeSpec("cache", "app-cache")])))
    return path


def test_bench_of_a_manifest_keeps_its_volumes_log_and_report_at_the_project_root(bp, project, run_mdeploy):
    path = _blueprint_with_a_volume(bp, project)
    elsewhere = project / "deploy" / "nested"
    done = run_mdeploy(
        "bench",
        f"{path}:chat",
        "--concurrency",
        "1",
        "--requests",
        "2",
        "--max-tokens",
        "2",
        "--no-plots",
        cwd=elsewhere,
    )
    assert done.returncode == 0, done.stderr
    state = project / ".mdeploy"
    assert (state / "volumes" / "app-cache").is_dir()
    assert (state / "logs" / "chat.log").is_file()
    (report,) = (state / "bench").glob("*/report.json")
    assert json.loads(report.read_text())["levels"][0]["succeeded"] == 2
    assert not (elsewhere / ".mdeploy").exists()


def test_run_keeps_its_volumes_at_the_project_root(project, run_mdeploy):
    (project / "jobs").mkdir()
    (project / "jobs" / "save.py").write_text(
        "import os, pathlib\n\ndef save(text):\n    (pathlib.Path(os.environ['OUT']) / 'x.txt').write_text(text)\n    return 'ok'\n"
    )
    (project / "deploy" / "app.yaml").write_text(
        "version: 1\napp: saver\nvolumes:\n  out: {name: saver-out}\n"
        "functions:\n  save:\n    handler: jobs.save:save\n    volumes: {/out: out}\n    env: {OUT: /out}\n"
    )
    elsewhere = project / "deploy" / "nested"
    done = run_mdeploy("run", "../app.yaml", "save", "--", '"hello"', cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert (project / ".mdeploy" / "volumes" / "saver-out" / "x.txt").read_text() == "hello"
    assert not (elsewhere / ".mdeploy").exists()


def test_a_url_benchmark_has_no_manifest_so_its_report_goes_below_the_current_folder(project, monkeypatch):
    from engine.bench.target import parse_target
    from engine.cli.bench import _report_folder

    monkeypatch.chdir(project / "deploy")
    assert _report_folder(parse_target("http://127.0.0.1:1"), "t") == project / "deploy" / ".mdeploy" / "bench" / "t"
    assert _report_folder(parse_target("nested/app.yaml:chat"), "t") == project / ".mdeploy" / "bench" / "t"
