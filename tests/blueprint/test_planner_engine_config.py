"""engine_args.config through the planner: located problems, and where the file's text lands."""

from __future__ import annotations

import pytest

from engine.manifest.errors import ManifestError
from engine.planner.plan import plan_file


def only_server(blueprint):
    (server,) = blueprint.servers
    return server


HEAD = """version: 1
app: cfg
services:
  chat:
    kind: llm
    engine: {engine}
    gpu: H100
    model: {{id: org/m, revision: 0e9e39f249a16976918f6564b8830bc894c89659}}
    engine_args:
      config:
"""


def _plan(tmp_path, engine: str, config_lines: str, extra: str = ""):
    path = tmp_path / "cfg.yaml"
    path.write_text(HEAD.format(engine=engine) + config_lines + extra)
    return plan_file(path, None, environ={})


def test_sglang_config_reaches_the_container_env_and_the_command(tmp_path):
    server = only_server(_plan(tmp_path, "sglang", "        chunked_prefill_size: 4096\n"))
    assert server.container.env["MDEPLOY_SGLANG_CONFIG"] == "chunked-prefill-size: 4096\n"
    assert server.engine_options["config"] == '{"chunked_prefill_size":4096}'
    assert "--config" in server.command


@pytest.mark.parametrize(
    ("engine", "lines", "expected"),
    [
        ("sglang", "        tp_size: 2\n", "cfg.yaml:11:9: services.chat.engine_args.config.tp_size"),
        ("sglang", "        chunked_prefil: 2\n", "did you mean 'chunked_prefill_size'"),
        ("trtllm", "        kv_cache_confg: {}\n", "cfg.yaml:11:9: services.chat.engine_args.config.kv_cache_confg"),
        (
            "trtllm",
            "        quant_config:\n          quant_algo: FP8\n",
            "cfg.yaml:12:11: services.chat.engine_args.config.quant_config.quant_algo",
        ),
    ],
)
def test_config_problems_point_at_the_key(tmp_path, engine, lines, expected):
    with pytest.raises(ManifestError) as info:
        _plan(tmp_path, engine, lines)
    assert expected in str(info.value)


def test_config_given_in_extra_args_too_is_refused(tmp_path):
    lines = "        chunked_prefill_size: 4096\n"
    with pytest.raises(ManifestError) as info:
        _plan(tmp_path, "sglang", lines, '      extra_args: ["--chunked-prefill-size", "2048"]\n')
    assert "engine_args.extra_args[0] sets too" in str(info.value)


def test_vllm_has_no_config_key(tmp_path):
    with pytest.raises(ManifestError) as info:
        _plan(tmp_path, "vllm", "        x: 1\n")
    assert "services.chat.engine_args.config" in str(info.value)
