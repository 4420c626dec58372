"""An engine configuration file (`engine_args.config`) in the ejected app: its text in the server's
env, and the command that writes it and names it with the engine's flag."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from engine.eject.render import render_app
from engine.planner.plan import plan_file

MANIFEST = Path("tests/modal_backend/data/seam/seam-engine-config.yaml")


def _server_class(tree: ast.Module, name: str) -> ast.ClassDef:
    return next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == name)


def _env(cls: ast.ClassDef) -> dict:
    (decorator,) = (d for d in cls.decorator_list if isinstance(d, ast.Call))
    return ast.literal_eval(next(k.value for k in decorator.keywords if k.arg == "env"))


def test_the_ejected_server_carries_the_file_and_names_it():
    source = render_app(plan_file(MANIFEST, None, environ={}))
    tree = ast.parse(source)
    env = _env(_server_class(tree, "Sgl"))
    assert yaml.safe_load(env["MDEPLOY_SGLANG_CONFIG"]) == {"chunked-prefill-size": 4096, "enable-torch-compile": True}
    assert '> /tmp/mdeploy-sglang-config.yaml && exec "$@"' in source
    assert '"--config", "/tmp/mdeploy-sglang-config.yaml"' in source
    trt = _env(_server_class(tree, "Trt"))
    assert yaml.safe_load(trt["MDEPLOY_TRTLLM_CONFIG"])["kv_cache_config"]["enable_block_reuse"] is True
    assert '"--extra_llm_api_options", "/tmp/mdeploy-trtllm-config.yaml"' in source
