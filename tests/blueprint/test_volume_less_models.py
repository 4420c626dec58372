"""A hub model that every user reads from an image that holds it (`- models: [KEY]`, or a
`run_function` build step that reads it) needs no cache volume: the entry may leave `volume:` out,
nothing is mounted for it and no prefetch fetches it. ModelSpec records the decision: `images`
(the images that hold it) and `volume` (the volume some user reads it from, else None). A user
that would read such a model from a volume is a located error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from engine.blueprint.codec import from_json, to_json
from engine.manifest.errors import ManifestError
from engine.planner.plan import plan_file, plan_file_with_origins

REV = "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a"
QWEN_REV = "7ae557604adf67be50417f59c2c2f167def9a775"
SNAPSHOT = f"hub/models--BAAI--bge-small-en-v1.5/snapshots/{REV}"

HEAD = f"""\
version: 1
app: m
models:
  bge:
    id: BAAI/bge-small-en-v1.5
    revision: {REV}
images:
  baked:
    steps:
      - pip: ["sentence-transformers==3.3.1"]
      - models: [bge]
  plain:
    pip: ["numpy==2.1.0"]
"""


def _write(tmp_path: Path, body: str) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    (tmp_path / "jobs.py").write_text("def run(*a, **k):\n    return 1\napp = None\n")
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        plan_file(path, None, {})
    return [p.format() for p in caught.value.problems if ": warning:" not in p.format()]


# ---------------------------------------------------------------------------------------------
# The wrong inputs: a volume-less model read from a volume


def test_a_function_whose_image_does_not_hold_the_model_is_located(tmp_path):
    body = HEAD + "functions:\n  embed: {handler: 'jobs:run', image: plain, models: [bge]}\n"
    problems = _problems(_write(tmp_path, body))
    assert problems == [
        f"{tmp_path / 'm.yaml'}:15:55: functions.embed.models[0]: model 'bge' has no `volume`, and image 'plain' "
        "does not hold it: this function would read it from a volume "
        "(bake it into the image (`- models: [bge]` in images.plain.steps), or name its cache volume: "
        "models.bge.volume)"
    ]


def test_a_function_without_an_image_is_located_too(tmp_path):
    body = HEAD + "functions:\n  embed: {handler: 'jobs:run', models: [bge]}\n"
    (problem,) = _problems(_write(tmp_path, body))
    assert (
        ":15:41: functions.embed.models[0]: model 'bge' has no `volume`, and the function's image does not" in problem
    )
    assert "give it an image whose steps bake the model (`- models: [bge]`)" in problem


def test_a_web_service_that_reads_it_from_a_volume_is_located(tmp_path):
    body = HEAD + "services:\n  api: {kind: web, app: 'jobs:app', interface: asgi, image: plain, models: [bge]}\n"
    (problem,) = [p for p in _problems(_write(tmp_path, body)) if "services.api.models" in p]
    assert "services.api.models[0]: model 'bge' has no `volume`, and image 'plain' does not hold it" in problem


def test_an_llm_service_reads_its_model_from_the_volume_and_so_needs_one(tmp_path):
    body = f"""\
    version: 1
    app: m
    models:
      qwen: {{id: Qwen/Qwen2.5-0.5B-Instruct, revision: {QWEN_REV}}}
    services:
      chat: {{kind: llm, engine: vllm, gpu: L4, model: qwen}}
    """
    (problem,) = _problems(_write(tmp_path, body))
    assert ":6:44: services.chat.model: model 'qwen' has no `volume`" in problem
    assert "the engine reads its model from its Hugging Face cache, the model's volume" in problem
    assert "models.qwen.volume" in problem and "{id, revision}" in problem


def test_an_adapter_without_a_volume_is_located(tmp_path):
    body = f"""\
    version: 1
    app: m
    volumes: {{hf: {{name: huggingface-cache}}}}
    models:
      qwen: {{id: Qwen/Qwen2.5-0.5B-Instruct, revision: {QWEN_REV}, volume: hf}}
      sql: {{id: org/sql-lora, revision: {REV}}}
    services:
      chat: {{kind: llm, engine: vllm, gpu: L4, model: qwen, adapters: [sql]}}
    """
    (problem,) = _problems(_write(tmp_path, body))
    assert "services.chat.adapters[0]: adapter 'sql' (model 'sql') has no `volume`" in problem
    assert "models.sql.volume" in problem


def test_a_path_model_needs_its_volume(tmp_path):
    body = """\
    version: 1
    app: m
    models:
      tuned: {path: runs/7}
    functions:
      f: {handler: 'jobs:run', models: [tuned]}
    """
    (problem,) = _problems(_write(tmp_path, body))
    assert ":4:3: models.tuned.volume: a `path` model is a folder in a volume: name the volume" in problem


def test_the_validate_command_reports_it_located(tmp_path, capsys):
    from engine.cli.main import main

    path = _write(tmp_path, HEAD + "functions:\n  embed: {handler: 'jobs:run', image: plain, models: [bge]}\n")
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    assert code != 0
    assert "m.yaml:15:55: functions.embed.models[0]: model 'bge' has no `volume`" in out.out + out.err
    assert "Traceback" not in out.out + out.err


# ---------------------------------------------------------------------------------------------
# What a volume-less baked model plans to


def test_a_baked_model_without_a_volume_plans_no_volume_at_all(tmp_path):
    body = HEAD + "functions:\n  embed: {handler: 'jobs:run', image: baked, models: [bge]}\n"
    blueprint = plan_file(_write(tmp_path, body), None, {})
    (fn,) = blueprint.functions  # no prefetch function: nothing reads a volume
    assert fn.container.mounts == ()
    assert fn.container.env["MDEPLOY_MODEL_BGE"] == f"/opt/mdeploy/models/{SNAPSHOT}"
    (model,) = blueprint.models
    assert (model.volume, model.images, model.folder) == (None, ("baked",), SNAPSHOT)
    assert model.used_by == ("functions.embed", "images.baked")
    assert blueprint.volumes == ()
    assert from_json(to_json(blueprint)) == blueprint
    assert '"volume": null' in to_json(blueprint)


def test_images_lists_each_image_that_holds_the_model_in_manifest_order(tmp_path):
    body = HEAD.replace('  plain:\n    pip: ["numpy==2.1.0"]\n', "")
    body += """\
  reader:
    steps:
      - run_function: {handler: 'jobs:run', models: [bge]}
functions:
  b: {handler: 'jobs:run', image: reader}
  a: {handler: 'jobs:run', image: baked, models: [bge]}
"""
    (model,) = plan_file(_write(tmp_path, body), None, {}).models
    assert model.images == ("baked", "reader")
    assert model.volume is None


def test_an_image_nothing_uses_is_not_listed(tmp_path):
    body = HEAD + "  other:\n    steps:\n      - models: [bge]\n"
    body += "functions:\n  embed: {handler: 'jobs:run', image: baked, models: [bge]}\n"
    (model,) = plan_file(_write(tmp_path, body), None, {}).models
    assert model.images == ("baked",)


def test_a_model_read_from_its_volume_by_one_user_and_baked_for_another_keeps_both(tmp_path):
    body = HEAD.replace(f"revision: {REV}\n", f"revision: {REV}\n    volume: weights\n", 1)
    body = "volumes:\n  weights: {name: weights}\n" + body
    body += "functions:\n  a: {handler: 'jobs:run', image: baked, models: [bge]}\n"
    body += "  b: {handler: 'jobs:run', image: plain, models: [bge]}\n"
    blueprint = plan_file(_write(tmp_path, body), None, {})
    (model,) = blueprint.models
    assert (model.volume, model.images) == ("weights", ("baked",))
    a, b, prefetch = blueprint.functions
    assert a.container.mounts == () and [m.source for m in b.container.mounts] == ["weights"]
    assert prefetch.key == "prefetch-models"


def test_a_volume_that_no_user_reads_is_not_in_the_model_and_the_origin_says_why(tmp_path):
    body = "volumes:\n  weights: {name: weights}\n" + HEAD.replace(
        f"revision: {REV}\n", f"revision: {REV}\n    volume: weights\n", 1
    )
    body += "functions:\n  a: {handler: 'jobs:run', image: baked, models: [bge]}\n"
    planned = plan_file_with_origins(_write(tmp_path, body), None, {})
    (model,) = planned.blueprint.models
    assert (model.volume, model.images) == (None, ("baked",))
    assert [f.key for f in planned.blueprint.functions] == ["a"]
    found = planned.origins.find(("models", "bge", "volume"))
    assert found is not None and "volume 'weights' is not read" in (found[1].note or "")
    (warning,) = [w.format() for w in planned.warnings]
    assert warning.endswith(
        "m.yaml:9:5: models.bge.volume: warning: volume 'weights' is never mounted for model 'bge': every user "
        "reads it from an image that holds it (baked) (remove `volume:` (the image holds the weights), "
        "or take the model out of the image's `models` build step to read it from the volume)"
    )


def test_the_validate_command_warns_of_a_volume_never_mounted_and_refuses_it_under_strict(tmp_path, capsys):
    from engine.cli.main import main

    body = "volumes:\n  weights: {name: weights}\n" + HEAD.replace(
        f"revision: {REV}\n", f"revision: {REV}\n    volume: weights\n", 1
    )
    path = _write(tmp_path, body + "functions:\n  a: {handler: 'jobs:run', image: baked, models: [bge]}\n")
    assert main(["validate", str(path)]) == 0
    said = capsys.readouterr()
    assert "m.yaml:9:5: models.bge.volume: warning: volume 'weights' is never mounted for model 'bge'" in said.out
    assert main(["validate", str(path), "--strict"]) != 0
    # read from the volume by one user: the volume is mounted, no warning
    path = _write(tmp_path, body + "functions:\n  a: {handler: 'jobs:run', image: plain, models: [bge]}\n")
    capsys.readouterr()
    assert main(["validate", str(path)]) == 0
    assert "warning:" not in capsys.readouterr().out
