"""`adapters:` on llm services: LoRA adapters from `models:` entries, validated with located
messages, planned into ServerSpec.lora_adapters, the engine's own flags in the command, the
adapters' cache volumes in the mounts, their names in served_names and the hub adapters in the
prefetch; refused on engines without LoRA and where extra_args would set the same flags."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from engine.blueprint.codec import from_json, to_json
from engine.manifest.errors import ManifestError
from engine.planner.plan import plan_file

BASE_REV = "7ae557604adf67be50417f59c2c2f167def9a775"
SQL_REV = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
SQL_FOLDER = f"hub/models--org--sql-lora/snapshots/{SQL_REV}"


def _manifest(tmp_path: Path, service: str, *, adapters_volume: str = "weights") -> Path:
    body = f"""\
    version: 1
    app: m
    volumes:
      weights: {{name: weights}}
      loras: {{name: loras}}
    models:
      base:
        id: Qwen/Qwen2.5-0.5B-Instruct
        revision: {BASE_REV}
        volume: weights
      sql:
        id: org/sql-lora
        revision: {SQL_REV}
        volume: {adapters_volume}
      mine:
        path: loras/mine
        volume: {adapters_volume}
    services:
      chat:
        kind: llm
        model: base
        gpu: L4
    """
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(body) + textwrap.indent(textwrap.dedent(service), "    "))
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        plan_file(path, None, {})
    return [p.format() for p in caught.value.problems if ": warning:" not in p.format()]


def _after(command: tuple[str, ...], flag: str, count: int) -> list[str]:
    index = command.index(flag)
    return list(command[index + 1 : index + 1 + count])


def test_vllm_loads_each_adapter_by_name_from_its_pinned_snapshot(tmp_path):
    path = _manifest(tmp_path, "engine: vllm\nadapters: [sql, mine]\n")
    blueprint = plan_file(path, None, {})
    (server,) = blueprint.servers
    cache = "/root/.cache/huggingface"  # the adapters' volume is the base model's HF cache
    assert [(a.name, a.model, a.path) for a in server.lora_adapters] == [
        ("sql", "sql", f"{cache}/{SQL_FOLDER}"),
        ("mine", "mine", f"{cache}/loras/mine"),
    ]
    assert "--enable-lora" in server.command
    assert _after(server.command, "--lora-modules", 2) == [f"sql={cache}/{SQL_FOLDER}", f"mine={cache}/loras/mine"]
    assert server.served_names[-2:] == ("sql", "mine")
    assert server.served_model_name == "Qwen/Qwen2.5-0.5B-Instruct"  # bench and smoke ask the base model
    # One mount of the shared volume: the HF cache, where the adapters are found.
    assert [(m.path, m.source) for m in server.container.mounts if m.source == "weights"] == [(cache, "weights")]
    (prefetch,) = blueprint.functions
    jobs = json.loads(prefetch.container.env["MDEPLOY_PREFETCH"])
    assert {(j["key"], j["repo"], j["revision"]) for j in jobs} == {
        ("base", "Qwen/Qwen2.5-0.5B-Instruct", BASE_REV),
        ("sql", "org/sql-lora", SQL_REV),
    }
    used = {m.key: m.used_by for m in blueprint.models}
    assert used["sql"] == used["mine"] == ("servers.chat",)
    assert from_json(to_json(blueprint)) == blueprint


def test_sglang_takes_the_adapters_as_lora_paths(tmp_path):
    path = _manifest(tmp_path, "engine: sglang\nadapters: [sql]\n")
    (server,) = plan_file(path, None, {}).servers
    assert "--enable-lora" in server.command
    assert _after(server.command, "--lora-paths", 1) == [f"sql=/root/.cache/huggingface/{SQL_FOLDER}"]


def test_an_adapter_in_another_volume_gets_that_volume_mounted_once(tmp_path):
    path = _manifest(tmp_path, "engine: vllm\nadapters: [sql, mine]\n", adapters_volume="loras")
    (server,) = plan_file(path, None, {}).servers
    assert [(m.path, m.source) for m in server.container.mounts if m.source == "loras"] == [("/models/loras", "loras")]
    assert [a.path for a in server.lora_adapters] == [f"/models/loras/{SQL_FOLDER}", "/models/loras/loras/mine"]


def test_the_mapping_form_serves_an_adapter_under_a_name_of_its_own(tmp_path):
    path = _manifest(tmp_path, "engine: vllm\nadapters: {text-to-sql: sql}\n")
    (server,) = plan_file(path, None, {}).servers
    assert [(a.name, a.model) for a in server.lora_adapters] == [("text-to-sql", "sql")]
    assert _after(server.command, "--lora-modules", 1)[0].startswith("text-to-sql=/root/.cache/huggingface/hub/")
    assert "text-to-sql" in server.served_names


def test_without_adapters_the_command_has_no_lora_flags_and_extra_args_may_enable_it(tmp_path):
    path = _manifest(tmp_path, "engine: vllm\nengine_args: {extra_args: [--enable-lora]}\n")
    (server,) = plan_file(path, None, {}).servers
    assert server.lora_adapters == () and server.command.count("--enable-lora") == 1
    assert "--lora-modules" not in server.command


@pytest.mark.parametrize(
    ("service", "where", "message"),
    [
        ("engine: vllm\nadapters: [sqll]\n", ":24:16: services.chat.adapters[0]:", "did you mean 'sql'?"),
        ("engine: trtllm\nadapters: [sql]\n", ":24:5: services.chat.adapters:", "trtllm cannot load LoRA adapters"),
        (
            "engine: transformers\nadapters: [sql]\n",
            ":24:5: services.chat.adapters:",
            "transformers cannot load LoRA adapters",
        ),
        ("engine: vllm\nadapters: [sql, mine, sql]\n", ":24:27: services.chat.adapters[2]:", "listed twice"),
        ("engine: vllm\nadapters: {'a=b': sql}\n", ':24:23: services.chat.adapters["a=b"]:', "holds '='"),
        (
            "engine: vllm\nadapters: {Qwen/Qwen2.5-0.5B-Instruct: sql}\n",
            ':24:16: services.chat.adapters["Qwen/Qwen2.5-0.5B-Instruct"]:',
            "also a name of the base model",
        ),
        (
            "engine: vllm\nadapters: [sql]\nengine_args: {extra_args: [--lora-modules, x=/y]}\n",
            ":25:32: services.chat.engine_args.extra_args[0]:",
            "set services.chat.adapters instead",
        ),
        (
            "engine: sglang\nadapters: [sql]\nengine_args: {extra_args: [--enable-lora]}\n",
            ":25:32: services.chat.engine_args.extra_args[0]:",
            "set services.chat.adapters instead",
        ),
    ],
)
def test_a_mistake_is_located_at_the_adapters_key(tmp_path, service, where, message):
    path = _manifest(tmp_path, service)
    (problem,) = _problems(path)
    assert where in problem and message in problem, problem
