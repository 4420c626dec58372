"""A `run_function` build step that reads `models:`: what the plan gives it, what the backend
hands Modal's Image.run_function, and what the ejected file builds (read back offline from Modal's
own image objects, tests/images/layers.py). What Modal's client sends for the same step is
compared field by field in tests/modal_backend (data/seam/seam-steps.yaml)."""

from __future__ import annotations

import importlib.util
import json
import sys
import types

import pytest

from engine.blueprint.model import PREFETCH_HANDLER
from engine.eject.render import render_app
from engine.modal_backend.app import build_app
from engine.modal_backend.deploy_side import local_files_root
from engine.planner.plan import plan_file
from engine.runtime import prefetch
from tests.images.layers import layers
from tests.images.recipes import problems_of
from tests.modal_backend.introspect import load_closure

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

REVISION = "5c38ec7c405ec4b44b94cc5a9bb96e735b38267a"
SNAPSHOT = f"hub/models--BAAI--bge-small-en-v1.5/snapshots/{REVISION}"

MANIFEST = f"""
version: 1
app: baked
volumes:
  weights: {{name: weights-cache}}
  scratch: {{}}
  finetunes: {{}}
secrets:
  hf: {{name: huggingface}}
models:
  bge:
    id: BAAI/bge-small-en-v1.5
    revision: {REVISION}
    volume: weights
    secret: hf
  tuned:
    path: runs/7
    volume: finetunes
images:
  x:
    steps:
      - pip: ["sentence-transformers==3.3.1"]
      - run_function:
          handler: imgjobs.tasks:fetch
          models: [bge, tuned]
          volumes: {{/scratch: scratch}}
          env: {{MODE: bake}}
          cpu: 2
          memory: 4GiB
functions:
  job:
    handler: imgjobs.tasks:run
    image: x
"""


@pytest.fixture
def manifest(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project))  # the deploy puts the project first (deploy_side.py)
    for name in [m for m in sys.modules if m == "imgjobs" or m.startswith("imgjobs.")]:
        monkeypatch.delitem(sys.modules, name)
    path = project / "app.yaml"
    path.write_text(MANIFEST)
    return path


def _image(blueprint):
    name = f"build_models_entry_{id(blueprint)}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    build_app(blueprint, module.__dict__, name, in_container=False, project_root=local_files_root(blueprint))
    return load_closure(module.__dict__[blueprint.functions[0].symbol])["image"]


def _builders(image) -> list[dict]:
    return [layer["builder"] for layer in layers(image) if "builder" in layer]


def test_a_hub_model_is_fetched_into_the_image_by_a_step_before_and_a_volume_model_is_mounted(manifest):
    blueprint = plan_file(manifest, None)
    (spec,) = blueprint.images
    fetch, bake = [s for s in spec.steps if s.op == "run_function"]
    assert fetch.args == (PREFETCH_HANDLER,) and fetch.models == ("bge",)
    (job,) = json.loads(fetch.env["MDEPLOY_PREFETCH"])
    assert (job["repo"], job["revision"], job["cache_dir"]) == (
        "BAAI/bge-small-en-v1.5",
        REVISION,
        "/opt/mdeploy/models/hub",
    )
    assert fetch.secrets == ("hf",) and fetch.mounts == ()  # the token reads the hub; nothing is mounted
    assert bake.env == {
        "MODE": "bake",
        "MDEPLOY_MODEL_BGE": f"/opt/mdeploy/models/{SNAPSHOT}",  # where the step before put it
        "MDEPLOY_MODEL_TUNED": "/models/finetunes/runs/7",  # in its volume, mounted
    }
    assert [(m.path, m.source) for m in bake.mounts] == [("/scratch", "scratch"), ("/models/finetunes", "finetunes")]
    assert (bake.cpu, bake.memory, bake.secrets) == (2.0, 4096, ())
    # Only a build step reads bge, from the image: no prefetch function fills its volume for nothing.
    assert [f.key for f in blueprint.functions] == ["job"]
    assert {m.key: m.used_by for m in blueprint.models} == {"bge": ("images.x",), "tuned": ("images.x",)}


def test_the_backend_hands_image_run_function_what_the_plan_says(manifest):
    blueprint = plan_file(manifest, None)
    fetch, bake = _builders(_image(blueprint))
    assert fetch["function"] is prefetch.prefetch_models
    assert fetch["secrets"] == ["modal.Secret.from_name('huggingface')", "Secret.from_dict([MDEPLOY_PREFETCH])"]
    assert (fetch["cpu"], fetch["memory"], fetch["volumes"], fetch["timeout"]) == (None, None, [], 3600)
    assert bake["function"] is sys.modules["imgjobs.tasks"].fetch
    assert bake["secrets"] == ["Secret.from_dict([MDEPLOY_MODEL_BGE, MDEPLOY_MODEL_TUNED, MODE])"]
    assert (bake["cpu"], bake["memory"]) == (2.0, 4096)
    assert bake["volumes"] == [
        ("/scratch", "modal.Volume.from_name('scratch')"),
        ("/models/finetunes", "modal.Volume.from_name('finetunes')"),
    ]


def test_the_ejected_file_builds_the_same_steps_without_mdeploy(manifest, project):
    blueprint = plan_file(manifest, None)
    path = project / "ejected_build_models.py"
    path.write_text(render_app(blueprint, filename=path.name), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("ejected_build_models", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        ejected = _builders(module.x_image)
        deployed = _builders(_image(blueprint))
        # The prefetch step runs the file's own copy of the prefetch body (no `engine` import).
        assert ejected[0]["function"] is module.fetch_pinned_models
        assert ejected[1]["function"] is sys.modules["imgjobs.tasks"].fetch
        drop = ("function", "name")
        assert [{k: v for k, v in b.items() if k not in drop} for b in ejected] == [
            {k: v for k, v in b.items() if k not in drop} for b in deployed
        ]
        assert "import engine" not in path.read_text() and "from engine" not in path.read_text()
    finally:
        sys.modules.pop(spec.name, None)


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("{handler: imgjobs.tasks:fetch, models: [bgee]}", "no model 'bgee' is declared in `models`"),
        ("{handler: imgjobs.tasks:fetch, volumes: {/v: nope}}", "no volume 'nope' is declared in `volumes`"),
        ("{handler: imgjobs.tasks:fetch, volumes: {/a: w, /b: w}}", "volume 'w' is already mounted at /a"),
        ("{handler: imgjobs.tasks:fetch, models: [bge], env: {MDEPLOY_MODEL_BGE: x}}", "set by the planner"),
        ("{handler: imgjobs.tasks:fetch, cpu: 0}", "run_function.cpu"),
        ("{handler: imgjobs.tasks:fetch, memory: lots}", "run_function.memory"),
    ],
)
def test_wrong_build_step_keys_are_located(project, step, expected):
    path = project / "app.yaml"
    path.write_text(
        "version: 1\napp: imgs\nvolumes:\n  w: {}\n"
        f"models:\n  bge: {{id: BAAI/bge-small-en-v1.5, revision: {REVISION}, volume: w}}\n"
        f"images:\n  x:\n    steps:\n      - run_function: {step}\n"
        "functions:\n  job:\n    handler: imgjobs.tasks:run\n    image: x\n"
    )
    found = problems_of(path)
    assert any(expected in p and p.startswith(f"{path}:10:") for p in found), found


BAKED = f"""
version: 1
app: baked
volumes:
  weights: {{}}
  finetunes: {{}}
models:
  bge: {{id: BAAI/bge-small-en-v1.5, revision: {REVISION}, volume: weights}}
  tuned: {{path: runs/7, volume: finetunes}}
images:
  x:
    steps:
      - pip: ["sentence-transformers==3.3.1"]
      - models: [bge]
      - run_function: {{handler: imgjobs.tasks:fetch, models: [bge]}}
functions:
  job:
    handler: imgjobs.tasks:run
    image: x
    models: [bge, tuned]
"""


def test_a_model_baked_into_the_image_is_read_from_it_by_later_steps_and_its_functions(manifest):
    manifest.write_text(BAKED)
    blueprint = plan_file(manifest, None)
    (spec,) = blueprint.images
    runs = [s for s in spec.steps if s.op == "run_function"]
    assert [s.args[0] for s in runs] == [PREFETCH_HANDLER, "imgjobs.tasks:fetch"]  # fetched once
    (job,) = blueprint.functions  # nothing reads bge from its volume: no prefetch function
    in_image = f"/opt/mdeploy/models/{SNAPSHOT}"
    assert runs[1].env["MDEPLOY_MODEL_BGE"] == in_image
    assert job.container.env["MDEPLOY_MODEL_BGE"] == in_image
    # The model in a volume is still read from its volume, mounted.
    assert job.container.env["MDEPLOY_MODEL_TUNED"] == "/models/finetunes/runs/7"
    assert [(m.path, m.source) for m in job.container.mounts] == [("/models/finetunes", "finetunes")]
    fetch, _ = _builders(_image(blueprint))
    assert fetch["function"] is prefetch.prefetch_models


@pytest.mark.parametrize(
    ("steps", "expected", "line"),
    [
        ("- models: [tuned]", "model 'tuned' is a folder in a volume", 11),
        ("- models: [bge, bge]", "model 'bge' is fetched into this image already", 11),
        ("- models: [bge]\n      - models: [bge]", "model 'bge' is fetched into this image already", 12),
        ("- models: [bgee]", "no model 'bgee' is declared in `models`", 11),
        ("- models: []", "images.x.steps[0].models: Value should have at least 1 item", 11),
        ("- models: [bge]\n        pip: [x]", "one step sets pip and models", 11),
    ],
)
def test_wrong_baked_models_are_located(project, steps, expected, line):
    path = project / "app.yaml"
    path.write_text(
        "version: 1\napp: imgs\nvolumes:\n  w: {}\n"
        f"models:\n  bge: {{id: BAAI/bge-small-en-v1.5, revision: {REVISION}, volume: w}}\n"
        "  tuned: {path: runs/7, volume: w}\n"
        f"images:\n  x:\n    steps:\n      {steps}\n"
        "functions:\n  job:\n    handler: imgjobs.tasks:run\n    image: x\n    models: [bge, tuned]\n"
    )
    found = problems_of(path)
    assert any(expected in p and p.startswith(f"{path}:{line}:") for p in found), found
