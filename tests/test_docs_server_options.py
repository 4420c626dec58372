"""docs/server-options.md runs: its commands print what the page says, its manifest excerpt plans
to the values it claims, and every file it names exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from engine.planner.plan import plan_file

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "server-options.md").read_text(encoding="utf-8")
MODEL = {"id": "Qwen/Qwen3-8B", "revision": "b968826d9c46dd6066d109eabc6255188de91218"}


def _commands() -> list[str]:
    return [line.strip() for line in DOC.splitlines() if line.startswith("    mdeploy ")]


def test_the_page_shows_commands():
    assert len(_commands()) == 2


@pytest.mark.parametrize("command", _commands())
def test_each_command_succeeds(run_mdeploy, command):
    result = run_mdeploy(*shlex.split(command)[1:])
    assert result.returncode == 0, result.stderr
    if " plan " in f" {command} ":
        for row in (r"scaleup after 45s", r"exit grace +20s", r"http/2 +on"):
            assert re.search(row, result.stdout), row
    else:
        assert "planned from the manifest key services.snappy.http2" in result.stdout


def test_the_excerpt_plans_to_what_the_page_says(tmp_path):
    excerpt = yaml.safe_load(re.search(r"```yaml\n(.*?)```", DOC, re.S).group(1))
    excerpt["services"]["chat"]["model"] = MODEL
    manifest = tmp_path / "excerpt.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "app": "excerpt", **excerpt}), encoding="utf-8")
    (server,) = plan_file(manifest, "main").servers
    assert (server.exit_grace_period, server.h2_enabled, server.routing_region) == (20, True, "us-east")
    assert (server.container.scaling.scaleup_window, server.container.scaling.scaledown_window) == (30, 900)
    assert server.container.region == ("us-east",)


def test_files_the_page_names_exist():
    paths = set(re.findall(r"`((?:engine|tests|schemas|manifests|docs)/[\w./-]+)`", DOC))
    assert paths and sorted(p for p in paths if not (REPO / p).exists()) == []
