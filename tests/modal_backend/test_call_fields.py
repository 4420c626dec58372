"""calls.ARGUMENT_FIELDS against the builders: every keyword the backend passes to `app.function`
and `app.server` has an entry, every entry names a field the Blueprint has, and every call the
builders mark is in the table. Without this the table could drift from the code beside it and a
Modal complaint would land on the wrong key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from engine.modal_backend.calls import ARGUMENT_FIELDS, building, current_call
from engine.modal_backend.classes import class_kwargs
from engine.modal_backend.functions import function_kwargs
from engine.modal_backend.images import ImageContext, build_images
from engine.modal_backend.resources import build_resources
from engine.modal_backend.servers import server_kwargs
from tests.modal_backend.blueprints import all_blueprints

BACKEND = Path(__file__).resolve().parents[2] / "engine" / "modal_backend"
_SPEC_OF_CALL = {
    "app.function": "functions",
    "web": "functions",
    "batched": "functions",
    "concurrent": "functions",
    "schedule": "functions",
    "retries": "functions",
    "app.cls": "functions",
    "class method": "functions",
    "class batched": "functions",
    "app.server": "servers",
    "server class": "servers",
    "Image": "images",
    "Volume.from_name": "volumes",
    "Secret.from_name": "secrets",
    "CloudBucketMount": "buckets",
    "Dict.from_name": "dicts",
    "Queue.from_name": "queues",
}


def _resolves(spec_type: type, path: tuple) -> bool:
    """`path` names a field chain of the dataclass `spec_type` (through nested dataclasses)."""
    current: object = spec_type
    for name in path:
        fields = {f.name: f for f in dataclasses.fields(current)} if dataclasses.is_dataclass(current) else {}
        if name not in fields:
            return False
        hint = fields[name].type
        current = _dataclass_named(hint) or object
    return True


def _dataclass_named(hint: object) -> type | None:
    import engine.blueprint.model as model

    for name in re.findall(r"[A-Z]\w+", str(hint)):
        candidate = getattr(model, name, None)
        if dataclasses.is_dataclass(candidate):
            return candidate
    return None


def _spec_types() -> dict[str, type]:
    import engine.blueprint.model as model

    return {
        "functions": model.FunctionSpec,
        "servers": model.ServerSpec,
        "images": model.ImageSpec,
        "volumes": model.VolumeSpec,
        "secrets": model.SecretSpec,
        "buckets": model.BucketSpec,
        "dicts": model.DictSpec,
        "queues": model.QueueSpec,
    }


@pytest.mark.parametrize("name", sorted(all_blueprints()))
def test_every_keyword_passed_to_app_function_and_app_server_has_a_field(name):
    blueprint = all_blueprints()[name]
    resources = build_resources(blueprint)
    images = build_images(blueprint, ImageContext(secrets=resources.secrets, volumes=resources.volumes))
    for spec in blueprint.functions:
        if spec.cls is not None:
            missing = set(class_kwargs(spec, images, resources)) - set(ARGUMENT_FIELDS["app.cls"]["fields"])
        else:
            missing = set(function_kwargs(spec, images, resources)) - set(ARGUMENT_FIELDS["app.function"]["fields"])
        assert not missing, missing
    for spec in blueprint.servers:
        missing = set(server_kwargs(spec, images, resources)) - set(ARGUMENT_FIELDS["app.server"]["fields"])
        assert not missing, missing


@pytest.mark.parametrize("call", sorted(_SPEC_OF_CALL))
def test_every_field_in_the_table_is_a_field_of_the_blueprint(call):
    spec_type = _spec_types()[_SPEC_OF_CALL[call]]
    entry = ARGUMENT_FIELDS[call]
    for path in [entry["whole"], *entry["fields"].values()]:
        assert _resolves(spec_type, path), (call, path)


def test_image_step_and_app_fields_are_blueprint_fields():
    import engine.blueprint.model as model

    for path in [ARGUMENT_FIELDS["Image step"]["whole"], *ARGUMENT_FIELDS["Image step"]["fields"].values()]:
        assert _resolves(model.ImageStep, path), path
    for path in [ARGUMENT_FIELDS["App"]["whole"], *ARGUMENT_FIELDS["App"]["fields"].values()]:
        assert _resolves(model.Blueprint, path), path


def test_every_call_the_builders_mark_is_in_the_table():
    marked = set()
    for source in BACKEND.glob("*.py"):
        marked |= set(re.findall(r'building\([^\n]*,\s*"([^"]+)"\)', source.read_text(encoding="utf-8")))
    assert marked == set(ARGUMENT_FIELDS), marked ^ set(ARGUMENT_FIELDS)


def test_a_refusal_carries_its_call_and_a_note_and_the_inner_call_wins():
    with pytest.raises(ValueError) as caught:
        with building(("functions", "outer"), "app.function"):
            with building(("functions", "inner"), "retries"):
                assert current_call() == (("functions", "inner"), "retries")
                raise ValueError("refused")
    assert caught.value.mdeploy_call == (("functions", "inner"), "retries")
    assert caught.value.__notes__ == ["mdeploy: raised while building functions.inner (retries)"]
    assert current_call() is None
