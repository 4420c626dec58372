"""The codec decodes the Blueprint's closed sets of strings (the `Literal` fields of model.py) and
refuses any other value with the field's path, rather than building a Blueprint no backend reads."""

from __future__ import annotations

import json
import typing

import pytest

from engine.blueprint import model
from engine.blueprint.codec import BlueprintDecodeError, from_json, to_json
from engine.blueprint.model import Blueprint, ContainerSpec, ImageSpec, ImageStep, ServerSpec


def _blueprint() -> Blueprint:
    container = ContainerSpec(image="img", cloud="aws")
    return Blueprint(
        app="a",
        environment="main",
        source="m.yaml",
        images=(ImageSpec(key="img", base="debian_slim", python_version="3.11", steps=(ImageStep(op="env"),)),),
        servers=(
            ServerSpec(
                key="s",
                symbol="S",
                name="s",
                engine="vllm",
                model="m",
                served_model_name="m",
                container=container,
                command=("vllm",),
            ),
            ServerSpec(
                key="t",
                symbol="T",
                name="t",
                engine="",
                model="",
                served_model_name="",
                container=container,
                command=("serve",),
                kind="server",
            ),
        ),
    )


def test_literal_fields_round_trip():
    blueprint = _blueprint()
    assert from_json(to_json(blueprint)) == blueprint


@pytest.mark.parametrize(
    ("edit", "where", "value"),
    [
        (lambda d: d["images"][0].update(base="alpine"), "blueprint.images[0].base", "'alpine'"),
        (lambda d: d["images"][0]["steps"][0].update(op="pip"), "blueprint.images[0].steps[0].op", "'pip'"),
        (lambda d: d["servers"][0].update(engine="ollama"), "blueprint.servers[0].engine", "'ollama'"),
        (lambda d: d["servers"][0].update(kind="web"), "blueprint.servers[0].kind", "'web'"),
        (
            lambda d: d["servers"][0]["container"].update(cloud="azure"),
            "blueprint.servers[0].container.cloud",
            "'azure'",
        ),
        (lambda d: d["servers"][0].update(kind=1), "blueprint.servers[0].kind", "1"),
    ],
)
def test_an_unknown_literal_value_is_a_located_error(edit, where, value):
    data = json.loads(to_json(_blueprint()))
    edit(data)
    with pytest.raises(BlueprintDecodeError) as caught:
        from_json(json.dumps(data))
    message = str(caught.value)
    assert message.startswith(f"{where}: {value} is not one of ")


def test_every_literal_field_of_the_model_is_decodable():
    """Each Literal alias of model.py is used by some field (LocalFileOp: a part of ImageOp)."""
    aliases = {name: tp for name, tp in vars(model).items() if typing.get_origin(tp) is typing.Literal}
    assert {"ImageBase", "ImageOp", "MountKind", "CacheState", "WebKind", "EngineName", "ServerKind"} <= set(aliases)
    used: set[str] = set()
    for cls in vars(model).values():
        if isinstance(cls, type) and hasattr(cls, "__dataclass_fields__"):
            for f in cls.__dataclass_fields__.values():
                used.update(name for name in aliases if name in str(f.type))
    assert used | {"LocalFileOp"} == set(aliases)
    assert set(typing.get_args(model.LocalFileOp)) <= set(typing.get_args(model.ImageOp))
    assert model.LOCAL_FILE_OPS == typing.get_args(model.LocalFileOp)
