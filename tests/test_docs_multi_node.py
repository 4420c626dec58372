"""docs/multi-node.md runs: its plan command prints the cluster rows the page describes, and the
fixture it names is the one the deploy seam test sends through Modal's client."""

from __future__ import annotations

import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOC = (REPO / "docs" / "multi-node.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    return [line.strip() for line in DOC.splitlines() if line.startswith("    mdeploy ")]


def test_the_plan_command_shows_each_clustered_server(run_mdeploy):
    (command,) = _commands()
    result = run_mdeploy(*shlex.split(command)[1:])
    assert result.returncode == 0, result.stderr
    assert "2 nodes per replica (@modal.clustered), RDMA on" in result.stdout
    assert "--dist-init-addr {leader}:20000" in result.stdout
    assert "nodes other than rank 0 add --headless" in result.stdout
    assert "clustered: 2 containers per replica" in result.stdout
    assert (REPO / "tests/modal_backend/data/seam/seam-cluster.yaml").is_file()
