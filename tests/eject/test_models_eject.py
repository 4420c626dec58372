"""Eject writes a manifest's models as plain Modal code: each user's mount and path variable, and
the prefetch function with its body written out (the file imports no mdeploy)."""

from __future__ import annotations

import ast
from pathlib import Path

from engine.eject.render import render_app
from engine.planner.plan import plan_file
from engine.runtime import prefetch

REPO = Path(__file__).resolve().parents[2]


def test_the_prefetch_function_is_written_out_and_needs_no_mdeploy():
    text = render_app(plan_file(REPO / "manifests" / "transcribe.yaml", None, {}))
    tree = ast.parse(text)
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "engine" not in imported
    (body,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "prefetch_models"]
    runtime = ast.parse(Path(prefetch.__file__).read_text())
    (same,) = [n for n in runtime.body if isinstance(n, ast.FunctionDef) and n.name == "prefetch_models"]
    assert [ast.unparse(s) for s in body.body] == [ast.unparse(s) for s in same.body]
    assert '"MDEPLOY_MODEL_WHISPER": "/models/weights/hub/models--openai--whisper-large-v3/snapshots/' in text
    assert 'volumes={"/models/weights": weights_vol}' in text


def test_an_llm_servers_lora_adapters_are_written_as_the_engines_flags():
    text = render_app(plan_file(REPO / "manifests" / "lora.yaml", None, {}))
    assert '"--enable-lora",' in text
    assert '"--lora-modules", "sql=/root/.cache/huggingface/loras/sql",' in text
    assert '"support=/root/.cache/huggingface/loras/support",' in text
    assert '"/root/.cache/huggingface": weights_vol' in text
