"""`mdeploy run` and a function's models, through the real CLI: the handler's MDEPLOY_MODEL_<KEY>
names a folder on this machine, and run says where it is and, when it is empty, how to fill it.

A model baked into the image (a `- models:` build step) is read from this machine's Hugging Face
cache here; a model in a cache volume from the volume's local copy under `.mdeploy/volumes/`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

REPO = "org/tiny"
REVISION = "0123456789abcdef0123456789abcdef01234567"
SNAPSHOT = f"models--org--tiny/snapshots/{REVISION}"


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "jobs").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "jobs" / "weights.py").write_text(
        textwrap.dedent("""
        import os
        from pathlib import Path

        def config():
            folder = Path(os.environ["MDEPLOY_MODEL_TINY"])
            return {"folder": str(folder), "config": (folder / "config.json").read_text()}
    """)
    )
    (root / "app.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        app: weights
        volumes:
          cache: {{name: weights-cache}}
        models:
          tiny: {{id: {REPO}, revision: {REVISION}, volume: cache, files: ["*.json"]}}
        images:
          baked:
            steps:
              - pip: [huggingface_hub]
              - models: [tiny]
        functions:
          from-image: {{handler: "jobs.weights:config", image: baked, models: [tiny]}}
          from-volume: {{handler: "jobs.weights:config", models: [tiny]}}
    """)
    )
    return root


def _model_line(stderr: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("mdeploy: model tiny"))


def test_a_baked_model_is_read_from_this_machines_hugging_face_cache(project, tmp_path, run_mdeploy):
    hf_home = tmp_path / "hf"
    snapshot = hf_home / "hub" / SNAPSHOT
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"from": "the local cache"}')
    done = run_mdeploy("run", "app.yaml", "from-image", cwd=project, env={"HF_HOME": str(hf_home)})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result == {"folder": str(snapshot), "config": '{"from": "the local cache"}'}
    assert _model_line(done.stderr) == (
        f"mdeploy: model tiny ({REPO}@{REVISION[:12]}) is baked into the image at "
        f"/opt/mdeploy/models/hub/{SNAPSHOT} on Modal; here MDEPLOY_MODEL_TINY is {snapshot}, "
        f"in this machine's Hugging Face cache"
    )


def test_a_baked_model_not_in_the_cache_is_named_with_the_command_that_fetches_it(project, tmp_path, run_mdeploy):
    hf_home = tmp_path / "empty-hf"
    done = run_mdeploy("run", "app.yaml", "from-image", cwd=project, env={"HF_HOME": str(hf_home)})
    assert done.returncode == 1  # the handler's own FileNotFoundError, after the line that explains it
    assert _model_line(done.stderr).endswith(
        f"in this machine's Hugging Face cache, which is empty: fetch it with "
        f"`hf download {REPO} --revision {REVISION} --include '*.json'`"
    )


def test_a_model_in_a_volume_is_read_from_the_volumes_local_copy(project, run_mdeploy):
    snapshot = project / ".mdeploy" / "volumes" / "weights-cache" / "hub" / SNAPSHOT
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"from": "the volume"}')
    done = run_mdeploy("run", "app.yaml", "from-volume", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["config"] == '{"from": "the volume"}'
    assert "which is empty" not in _model_line(done.stderr)


def test_an_empty_volume_copy_is_named_with_the_command_that_fills_it(project, run_mdeploy):
    done = run_mdeploy("run", "app.yaml", "from-volume", cwd=project)
    assert done.returncode == 1
    assert _model_line(done.stderr) == (
        f"mdeploy: model tiny ({REPO}@{REVISION[:12]}) is in the volume of volumes.cache; here MDEPLOY_MODEL_TINY is "
        f".mdeploy/volumes/weights-cache/hub/{SNAPSHOT}, which is empty: fetch it with "
        f"`hf download {REPO} --revision {REVISION} --include '*.json' --cache-dir .mdeploy/volumes/weights-cache/hub`"
    )


def test_a_model_without_a_volume_baked_into_the_image_runs_from_the_local_cache(project, tmp_path, run_mdeploy):
    """manifests/embeddings-baked.yaml's shape: the model names no volume, its one user's image holds it."""
    (project / "app.yaml").write_text(
        textwrap.dedent(f"""
        version: 1
        app: weights
        models:
          tiny: {{id: {REPO}, revision: {REVISION}, files: ["*.json"]}}
        images:
          baked:
            steps:
              - pip: [huggingface_hub]
              - models: [tiny]
        functions:
          from-image: {{handler: "jobs.weights:config", image: baked, models: [tiny]}}
    """)
    )
    hf_home = tmp_path / "hf"
    snapshot = hf_home / "hub" / SNAPSHOT
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text('{"from": "the local cache"}')
    done = run_mdeploy("run", "app.yaml", "from-image", cwd=project, env={"HF_HOME": str(hf_home)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["folder"] == str(snapshot)
    assert "is baked into the image at /opt/mdeploy/models/hub/" in _model_line(done.stderr)
    assert not (project / ".mdeploy" / "volumes").exists()  # no volume copy is made for it


def test_where_the_model_is_comes_from_the_blueprints_images_not_from_the_path(project, tmp_path):
    """run reads ModelSpec.images: with the function's image not among them, the same variable is
    a volume's folder, whatever its value looks like."""
    import dataclasses

    from engine.local.run_models import point_models_here
    from engine.planner.plan import plan_file

    blueprint = plan_file(project / "app.yaml", None, {}, check_project=False)
    function = next(f for f in blueprint.functions if f.key == "from-image")
    environ = {"HF_HOME": str(tmp_path / "hf")}
    (baked,) = point_models_here(blueprint, function, dict(function.container.env), environ)
    assert baked.in_image and baked.local_path == tmp_path / "hf" / "hub" / SNAPSHOT
    unbaked = dataclasses.replace(blueprint, models=tuple(dataclasses.replace(m, images=()) for m in blueprint.models))
    (model,) = point_models_here(unbaked, function, dict(function.container.env), environ)
    assert not model.in_image
