"""Dicts and queues: Modal attaches neither to the App (the deploy sends nothing for them), so
what the manifest says reaches Modal only through `Dict.from_name` / `Queue.from_name` in the
container. These tests plan a manifest and record what the backend passes to Modal there."""

from __future__ import annotations

import modal
import pytest

from engine.modal_backend.resources import build_resources
from engine.planner.plan import plan_file

MANIFEST = """\
version: 1
app: stores
dicts:
  cache: {name: shared-cache}
  fresh: {}
queues:
  jobs: {name: job-queue, create_if_missing: false}
functions:
  work: {handler: "workloads.jobs:run"}
"""


@pytest.fixture
def blueprint(tmp_path):
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "workloads").mkdir()
    (tmp_path / "workloads" / "__init__.py").write_text("")
    (tmp_path / "workloads" / "jobs.py").write_text("def run() -> None:\n    pass\n")
    text = MANIFEST.replace("cache: {name: shared-cache}", "cache: {name: shared-cache, create_if_missing: false}")
    (tmp_path / "m.yaml").write_text(text)
    return plan_file(tmp_path / "m.yaml", None, {})


def test_create_if_missing_reaches_from_name(blueprint, monkeypatch):
    called: list[tuple[str, str, bool]] = []
    for kind in ("Dict", "Queue"):
        real = getattr(modal, kind).from_name

        def record(name, *, create_if_missing=False, _kind=kind, _real=real, **rest):
            called.append((_kind, name, create_if_missing))
            return _real(name, create_if_missing=create_if_missing, **rest)

        monkeypatch.setattr(getattr(modal, kind), "from_name", record)
    build_resources(blueprint)
    assert sorted(called) == [
        ("Dict", "fresh", True),  # the default: created on first use, as before
        ("Dict", "shared-cache", False),
        ("Queue", "job-queue", False),
    ]


def test_the_plan_says_which_must_exist(blueprint):
    from engine.plan.cost import estimate_cost
    from engine.plan.plan_view import plan_sections

    sections = {s.title: s for s in plan_sections(blueprint, estimate_cost(blueprint))}
    dicts = {e.name: e.summary for e in sections["Dicts"].entries}
    assert dicts == {"cache": "Modal dict shared-cache (must exist: not created)", "fresh": "Modal dict fresh"}
    (queue,) = sections["Queues"].entries
    assert queue.summary == "Modal queue job-queue (must exist: not created)"
