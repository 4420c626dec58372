"""The `models:` section: validated with located messages, planned into Blueprint.models and into
the containers of the objects that use it, and an llm service's `model: KEY` planned exactly as
its inline `{id, revision}` form."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest

from engine.manifest.errors import ManifestError
from engine.manifest.validate import load_manifest
from engine.planner.plan import plan_file

REV = "afda370583db9c5359511ed5d989400a6199dfe1"
QWEN_REV = "7ae557604adf67be50417f59c2c2f167def9a775"


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "jobs.py").write_text("def run(*a, **k):\n    return 1\n")
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        plan_file(path, None, {})
    return [p.format().split(":", 1)[1] for p in caught.value.problems]


BASE = f"""\
version: 1
app: m
volumes:
  weights: {{name: weights}}
secrets:
  hf: {{name: hf, required_keys: [HF_TOKEN]}}
models:
  whisper:
    id: openai/whisper-large-v3
    revision: {REV}
    files: ["*.safetensors"]
    secret: hf
    volume: weights
"""


def test_a_function_gets_the_volume_the_path_and_the_secret(tmp_path):
    path = _write(tmp_path, BASE + "functions:\n  f: {handler: 'jobs:run', models: [whisper]}\n")
    blueprint = plan_file(path, None, {})
    (fn, prefetch) = blueprint.functions
    folder = f"hub/models--openai--whisper-large-v3/snapshots/{REV}"
    assert fn.models == ("whisper",)
    assert [(m.path, m.source) for m in fn.container.mounts] == [("/models/weights", "weights")]
    assert fn.container.env["MDEPLOY_MODEL_WHISPER"] == f"/models/weights/{folder}"
    assert fn.container.secrets == ("hf",)
    (model,) = blueprint.models
    assert (model.repo, model.revision, model.folder, model.allow_patterns) == (
        "openai/whisper-large-v3",
        REV,
        folder,
        ("*.safetensors",),
    )
    assert model.used_by == ("functions.f",) and model.env == "MDEPLOY_MODEL_WHISPER"
    assert prefetch.key == "prefetch-models" and prefetch.handler == "engine.runtime.prefetch:prefetch_models"
    assert prefetch.container.secrets == ("hf",)


def test_a_function_that_mounts_the_volume_itself_finds_the_model_there(tmp_path):
    body = BASE + "functions:\n  f: {handler: 'jobs:run', models: [whisper], volumes: {/cache: weights}}\n"
    fn = plan_file(_write(tmp_path, body), None, {}).functions[0]
    assert [(m.path, m.source) for m in fn.container.mounts] == [("/cache", "weights")]
    assert fn.container.env["MDEPLOY_MODEL_WHISPER"].startswith("/cache/hub/models--openai--whisper-large-v3/")


def test_a_path_model_is_a_folder_of_its_volume_and_is_not_prefetched(tmp_path):
    body = """\
    version: 1
    app: m
    volumes: {weights: {}}
    models:
      tuned: {path: runs/7/final, volume: weights}
    functions:
      f: {handler: 'jobs:run', models: [tuned]}
    """
    blueprint = plan_file(_write(tmp_path, body), None, {})
    assert [f.key for f in blueprint.functions] == ["f"]
    assert blueprint.functions[0].container.env["MDEPLOY_MODEL_TUNED"] == "/models/weights/runs/7/final"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("revision: main", "models.whisper.revision: revision must be a full commit hash (40 hex characters)"),
        ("revision: null", "models.whisper.id: a hub model needs a pinned `revision`"),
    ],
)
def test_a_revision_must_be_a_commit(tmp_path, model, expected):
    body = BASE.replace(f"revision: {REV}", model) + "functions:\n  f: {handler: 'jobs:run', models: [whisper]}\n"
    problems = _problems(_write(tmp_path, body))
    assert any(expected in p for p in problems), problems


def test_an_unknown_model_key_is_located_with_did_you_mean(tmp_path):
    body = BASE + "functions:\n  f: {handler: 'jobs:run', models: [wisper]}\n"
    problems = _problems(_write(tmp_path, body))
    assert (
        "15:37: functions.f.models[0]: no model 'wisper' is declared in `models` (did you mean 'whisper'?)" in problems
    )


def test_an_llm_service_with_an_unknown_model_key_is_located(tmp_path):
    body = BASE + "services:\n  chat: {kind: llm, engine: vllm, gpu: L4, model: whispr}\n"
    problems = _problems(_write(tmp_path, body))
    assert any("services.chat.model: no model 'whispr'" in p and "did you mean 'whisper'?" in p for p in problems)


def test_a_models_volume_and_secret_must_be_declared(tmp_path):
    body = BASE.replace("volume: weights", "volume: wieghts").replace("secret: hf", "secret: hff")
    body += "functions:\n  f: {handler: 'jobs:run', models: [whisper]}\n"
    problems = _problems(_write(tmp_path, body))
    assert any("models.whisper.volume: no volume 'wieghts'" in p and "'weights'" in p for p in problems)
    assert any("models.whisper.secret: no secret 'hff'" in p for p in problems)


def test_an_unused_model_is_a_warning(tmp_path):
    path = _write(tmp_path, BASE + "functions:\n  f: {handler: 'jobs:run'}\n")
    warnings = load_manifest(path, None, {}).warnings
    assert [w.format().split(":", 1)[1] for w in warnings] == [
        "8:3: models.whisper: warning: model 'whisper' is not used by any service or function "
        "(reference it (`models: [whisper]` on a function) or remove it)"
    ]
    assert plan_file(path, None, {}).functions[-1].key == "f"  # nothing to prefetch


LLM = f"""\
version: 1
app: m
volumes:
  hf: {{name: huggingface-cache}}
models:
  qwen: {{id: Qwen/Qwen2.5-0.5B-Instruct, revision: {QWEN_REV}, volume: hf}}
services:
  chat:
    kind: llm
    engine: vllm
    gpu: L4
    model: MODEL
"""


def test_an_llm_service_model_key_plans_as_the_inline_form(tmp_path):
    by_key = plan_file(_write(tmp_path, LLM.replace("MODEL", "qwen")), None, {})
    inline = LLM.replace("MODEL", f"{{id: Qwen/Qwen2.5-0.5B-Instruct, revision: {QWEN_REV}}}")
    inline = "\n".join(line for line in inline.splitlines() if "qwen:" not in line and line != "models:")
    inline_path = tmp_path / "inline"
    inline_path.mkdir()
    by_inline = plan_file(_write(inline_path, inline + "\n"), None, {})
    assert by_key.servers == by_inline.servers
    assert dataclasses.replace(by_key, models=(), functions=(), images=()) == dataclasses.replace(
        by_inline, models=(), functions=(), images=(), source=by_key.source
    )
    assert by_key.models[0].used_by == ("servers.chat",)
    # The engine's Hugging Face cache is the model's volume: the prefetch fills what vLLM reads.
    assert ("/root/.cache/huggingface", "hf") in [(m.path, m.source) for m in by_key.servers[0].container.mounts]


def test_two_models_with_one_variable_are_refused_where_both_are_used(tmp_path):
    body = BASE + "  tuned-a: {path: x, volume: weights}\n  tuned_a: {path: y, volume: weights}\n"
    body += "functions:\n  f: {handler: 'jobs:run', models: [tuned-a, tuned_a]}\n"
    problems = _problems(_write(tmp_path, body))
    assert any(
        "functions.f.models[1]: model 'tuned_a' and another model of this object both set MDEPLOY_MODEL_TUNED_A" in p
        for p in problems
    ), problems


def test_an_llm_service_serves_a_path_model_from_its_mounted_volume(tmp_path):
    body = """\
    version: 1
    app: m
    volumes: {weights: {}}
    models:
      tuned: {path: runs/7/final, volume: weights}
    services:
      chat: {kind: llm, engine: vllm, gpu: L4, model: tuned}
    """
    (server,) = plan_file(_write(tmp_path, body), None, {}).servers
    assert server.model == "/models/weights/runs/7/final" and server.revision is None
    assert ("/models/weights", "weights") in [(m.path, m.source) for m in server.container.mounts]
