"""vLLM on a machine without a GPU: the shipped manifests' launch commands, as the CPU build runs them.

The local command is derived again from the planned server's fields (engine/engines/common.py,
`local_command`); these tests hold it against the command Modal runs, flag by flag: the same
argv but for the listening address and what vLLM's CPU build cannot do (vllm.py, `cpu_launch`).
No vLLM is needed: nothing is started.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from engine.engines.common import local_command
from engine.engines.registry import get_engine
from engine.engines.vllm import CPU_KVCACHE_ENV, CPU_KVCACHE_GIB, cpu_launch
from engine.manifest.load import discover_manifests, environments_of
from engine.planner.plan import plan_file

REPO = Path(__file__).resolve().parents[2]
VLLM = get_engine("vllm")


def _shipped_vllm_servers():
    found = []
    for manifest in discover_manifests([REPO / "manifests"]):
        for env in (None, *environments_of(manifest)):
            for server in plan_file(manifest, env).servers:
                if server.engine == "vllm":
                    found.append(pytest.param(server, id=f"{manifest.stem}-{env or 'base'}-{server.key}"))
    return found


SHIPPED = _shipped_vllm_servers()


def _without(argv, flag, *, takes_value):
    """argv less `flag` (and its value)."""
    if flag not in argv:
        return list(argv)
    at = argv.index(flag)
    return [*argv[:at], *argv[at + 1 + int(takes_value) :]]


def _set(argv, flag, value):
    at = argv.index(flag)
    return [*argv[: at + 1], value, *argv[at + 2 :]]


def _on_cpu(server, environ=None):
    return local_command(VLLM, server, host="127.0.0.1", port=9000, gpu_here=False, environ=environ or {})


def test_the_manifests_ship_vllm_services_with_each_cpu_change():
    servers = [p.values[0] for p in SHIPPED]
    assert any("--gpu-memory-utilization" in s.command for s in servers)
    assert any(s.tensor_parallel_size > 1 for s in servers)


@pytest.mark.parametrize("server", SHIPPED)
def test_on_cpu_the_command_is_modals_less_what_the_cpu_cannot_do(server):
    argv, env, notes = _on_cpu(server)
    expected = _set(_set(list(server.command), "--host", "127.0.0.1"), "--port", "9000")
    expected = _without(expected, "--gpu-memory-utilization", takes_value=True)
    expected = _without(expected, "--enable-sleep-mode", takes_value=False)
    expected = _set(expected, "--tensor-parallel-size", "1")
    assert list(argv) == expected
    assert env == {CPU_KVCACHE_ENV: str(CPU_KVCACHE_GIB)}
    assert any(CPU_KVCACHE_ENV in note for note in notes)
    if "--gpu-memory-utilization" in server.command:
        assert any("--gpu-memory-utilization" in note and "dropped" in note for note in notes)
    if server.tensor_parallel_size > 1:
        assert any(f"--tensor-parallel-size {server.tensor_parallel_size} becomes 1" in n for n in notes)


@pytest.mark.parametrize("server", SHIPPED)
def test_with_a_gpu_the_command_is_modals_at_the_local_address(server):
    argv, env, notes = local_command(VLLM, server, host="127.0.0.1", port=9000, gpu_here=True, environ={})
    assert list(argv) == _set(_set(list(server.command), "--host", "127.0.0.1"), "--port", "9000")
    assert env == {} and notes == []


def test_sleep_mode_is_dropped_on_cpu_and_said_so():
    params = VLLM.params(SHIPPED[0].values[0])
    cpu = cpu_launch(dataclasses.replace(params, sleep_mode=True), {})
    assert "--enable-sleep-mode" in VLLM.launch_command(dataclasses.replace(params, sleep_mode=True))
    assert "--enable-sleep-mode" not in VLLM.launch_command(cpu.params)
    assert any("--enable-sleep-mode dropped" in note for note in cpu.notes)


def test_a_kv_cache_size_from_the_environment_is_kept_and_named():
    argv, env, notes = _on_cpu(SHIPPED[0].values[0], {CPU_KVCACHE_ENV: "6"})
    assert env == {}
    assert any(f"{CPU_KVCACHE_ENV}=6" in note for note in notes)


def test_a_hand_written_vllm_command_is_run_as_written():
    server = SHIPPED[0].values[0]
    hand = dataclasses.replace(server, command=("vllm", "serve", "m", "--gpu-memory-utilization", "0.5"))
    argv, env, notes = _on_cpu(hand)
    assert argv == ("vllm", "serve", "m", "--gpu-memory-utilization", "0.5", "--host", "127.0.0.1", "--port", "9000")
    assert env == {} and notes == []
