"""`nodes` / `rdma` on an llm service: validated, planned into ServerSpec.cluster, and filled in
by each container (rank and rank 0's address) as it starts."""

from __future__ import annotations

import textwrap

import pytest

from engine.manifest.errors import ManifestError
from engine.modal_backend.server_runtime import cluster_command
from engine.planner.plan import plan_file

HEAD = """\
version: 1
app: big
services:
  llm:
    kind: llm
    engine: {engine}
    model:
      id: Qwen/Qwen3-8B
      revision: b968826d9c46dd6066d109eabc6255188de91218
    gpu: "H100:8"
"""


def _plan(tmp_path, engine="vllm", extra=""):
    path = tmp_path / "big.yaml"
    path.write_text(HEAD.format(engine=engine) + textwrap.indent(textwrap.dedent(extra), "    "))
    return plan_file(path, "main")


def _problems(tmp_path, **kwargs):
    with pytest.raises(ManifestError) as caught:
        _plan(tmp_path, **kwargs)
    return str(caught.value)


def test_vllm_on_two_nodes(tmp_path):
    server = _plan(tmp_path, extra="nodes: 2\nrdma: true\n").servers[0]
    assert (server.tensor_parallel_size, server.pipeline_parallel_size) == (8, 2)
    assert server.cluster is not None and (server.cluster.nodes, server.cluster.rdma) == (2, True)
    assert "--nnodes" in server.command and "2" in server.command
    leader = cluster_command(server, (0, "10.0.0.1"))
    worker = cluster_command(server, (1, "10.0.0.1"))
    assert leader[len(server.command) :] == ("--node-rank", "0", "--master-addr", "10.0.0.1")
    assert worker[len(server.command) :] == ("--node-rank", "1", "--master-addr", "10.0.0.1", "--headless")


def test_sglang_names_rank_zero_as_host_and_port(tmp_path):
    server = _plan(tmp_path, engine="sglang", extra="nodes: 2\nengine_args: {tensor_parallel_size: 16}\n").servers[0]
    assert (server.tensor_parallel_size, server.pipeline_parallel_size) == (16, 1)
    assert cluster_command(server, (1, "10.0.0.1"))[len(server.command) :] == (
        "--node-rank",
        "1",
        "--dist-init-addr",
        "10.0.0.1:20000",
    )


def test_one_node_has_no_cluster(tmp_path):
    server = _plan(tmp_path).servers[0]
    assert server.cluster is None and server.pipeline_parallel_size == 1
    assert cluster_command(server, None) == server.command


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "nodes: 2\nengine_args: {tensor_parallel_size: 8, pipeline_parallel_size: 1}\n",
            "big.yaml:12:41: services.llm.engine_args.tensor_parallel_size",
        ),
        ("nodes: 2\nscaling: {min_containers: 3}\n", "min_containers (3) is not a whole number of clusters of 2"),
        ("rdma: true\n", "rdma connects the nodes of a cluster"),
        ("nodes: 2\nmemory_snapshot: true\n", "a memory snapshot is taken of one container"),
        ("nodes: 0\n", "services.llm.nodes"),
    ],
)
def test_mistakes_are_located(tmp_path, extra, expected):
    assert expected in _problems(tmp_path, extra=extra)


def test_an_engine_without_a_multi_node_launch_is_refused(tmp_path):
    message = _problems(tmp_path, engine="trtllm", extra="nodes: 2\n")
    assert "services.llm.nodes" in message and "trtllm cannot be launched across nodes" in message
