"""What the offline build leaves behind and repeats: counted, never timed.

`mdeploy validate DIR` builds hundreds of apps in one process; each scratch build must leave
nothing registered in Modal (a kept App keeps its whole object graph alive: gc and exit time grew
with every manifest, about a fifth of the process on 500 manifests).
"""

from __future__ import annotations

import dataclasses
import warnings

import modal
import pytest

from engine.blueprint.model import ImageStep
from engine.modal_backend import images, offline_build
from engine.modal_backend.offline_build import offline_complaints
from tests.modal_backend.blueprints import pipeline, vllm_server


def _registered(name: str) -> int:
    return len(modal.app._App._all_apps.get(name, []))


def test_offline_builds_leave_no_app_registered():
    for blueprint in (pipeline(), vllm_server()):
        before = _registered(blueprint.app)
        for _ in range(3):
            assert offline_complaints(blueprint) == []
        assert _registered(blueprint.app) == before


def test_a_refused_build_leaves_no_app_registered():
    blueprint = pipeline()
    broken = dataclasses.replace(
        blueprint,
        functions=tuple(
            dataclasses.replace(
                f,
                container=dataclasses.replace(
                    f.container, scaling=dataclasses.replace(f.container.scaling, scaledown_window=1)
                ),
            )
            for f in blueprint.functions
        ),
    )
    before = _registered(broken.app)
    complaints = offline_complaints(broken)
    assert complaints and all(c.severity == "error" for c in complaints)
    assert _registered(broken.app) == before


# --- the image memo: each recipe built once per process, a complaint never hidden --------------


@pytest.fixture
def memo(monkeypatch):
    fresh = offline_build._ImageMemo()
    monkeypatch.setattr(offline_build, "_IMAGES", fresh)
    return fresh


def _images_of(blueprint) -> int:
    return len(blueprint.images)


def test_one_construction_per_image_recipe_over_many_manifests(memo):
    blueprints = [pipeline(), vllm_server()]
    for _ in range(50):
        for blueprint in blueprints:
            assert offline_complaints(blueprint) == []
    assert memo.constructions == sum(_images_of(b) for b in blueprints)


def test_any_difference_in_the_spec_is_another_construction(memo):
    blueprint = pipeline()
    offline_complaints(blueprint)
    first = memo.constructions
    image = blueprint.images[0]
    changed = [
        dataclasses.replace(image, python_version="3.13"),
        dataclasses.replace(image, clear_entrypoint=not image.clear_entrypoint),
        dataclasses.replace(image, steps=(*image.steps, ImageStep(op="apt_install", args=("curl",)))),
    ]
    for spec in changed:
        offline_complaints(dataclasses.replace(blueprint, images=(spec, *blueprint.images[1:])))
    assert memo.constructions == first + len(changed)


def test_a_build_that_warned_is_built_and_reported_every_time(memo, monkeypatch):
    original = images._base_image

    def warning_base(spec):
        warnings.warn("this base is going away", DeprecationWarning, stacklevel=1)
        return original(spec)

    monkeypatch.setattr(images, "_base_image", warning_base)
    blueprint = pipeline()
    for _ in range(3):
        said = [c for c in offline_complaints(blueprint) if "going away" in c.message]
        assert [c.path[:2] for c in said] == [("images", spec.key) for spec in blueprint.images]
    assert memo.constructions == 3 * _images_of(blueprint)


def test_a_build_that_raised_is_reported_every_time_and_not_kept(memo):
    blueprint = pipeline()
    bad = dataclasses.replace(blueprint.images[0], steps=(ImageStep(op="env", env={"A": 1}),))  # type: ignore[dict-item]
    broken = dataclasses.replace(blueprint, images=(bad, *blueprint.images[1:]))
    for _ in range(3):
        (complaint,) = offline_complaints(broken)
        assert complaint.path == ("images", bad.key, "steps", 0, "env") and complaint.severity == "error"
    assert memo.constructions == 3
