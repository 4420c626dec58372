"""Overlay merge rules and provenance."""

from __future__ import annotations

from engine.manifest.overlay import merge_layers
from engine.manifest.toml_reader import parse_toml
from engine.manifest.yaml_reader import parse_yaml

BASE = """version: 1
services:
  chat:
    gpu: A100
    pip: [a, b, c]
    region: us-east
    env: {A: "1", B: "2"}
  api:
    cpu: 1
description: null
"""


def merged(overlay: str, base: str = BASE):
    return merge_layers([parse_yaml(base, "base.yaml"), parse_yaml(overlay, "prod.yaml")])


def test_overlay_mapping_merges_recursively():
    data = merged("services:\n  chat:\n    gpu: H100\n").data
    assert data["services"]["chat"]["gpu"] == "H100"
    assert data["services"]["chat"]["region"] == "us-east" and data["services"]["api"] == {"cpu": 1}


def test_overlay_scalar_replaces_and_points_at_overlay_file():
    m = merged("services:\n  chat:\n    gpu: H100\n")
    span = m.spans[("services", "chat", "gpu")]
    assert (span.value.file, span.value.line, span.value.col) == ("prod.yaml", 3, 10)
    assert m.spans[("services", "chat", "region")].value.file == "base.yaml"


def test_overlay_list_replaces_wholesale_with_overlay_item_spans():
    m = merged("services:\n  chat:\n    pip: [z]\n")
    assert m.data["services"]["chat"]["pip"] == ["z"]
    assert m.spans[("services", "chat", "pip", 0)].value.file == "prod.yaml"
    assert ("services", "chat", "pip", 1) not in m.spans


def test_overlay_null_deletes_key():
    m = merged("services:\n  chat:\n    region: null\n    env: {A: ~}\n")
    assert "region" not in m.data["services"]["chat"]
    assert m.data["services"]["chat"]["env"] == {"B": "2"}
    assert ("services", "chat", "region") not in m.spans


def test_overlay_null_for_whole_resource_deletes_it_and_its_spans():
    m = merged("services:\n  api: null\n")
    assert "api" not in m.data["services"]
    assert not any(path[:2] == ("services", "api") for path in m.spans)


def test_null_in_base_stays_null():
    assert merged("services: {}\n").data["description"] is None


def test_null_inside_new_overlay_mapping_is_dropped():
    m = merged("services:\n  new:\n    cpu: 2\n    gpu: null\n")
    assert m.data["services"]["new"] == {"cpu": 2}
    assert m.spans[("services", "new")].value.file == "prod.yaml"


def test_overlay_mapping_replaces_base_scalar():
    m = merged("services:\n  chat:\n    gpu: {type: H100}\n")
    assert m.data["services"]["chat"]["gpu"] == {"type": "H100"}
    assert m.spans[("services", "chat", "gpu", "type")].value.file == "prod.yaml"


def test_overlay_scalar_replaces_base_mapping_and_drops_its_spans():
    m = merged("services:\n  chat:\n    env: none\n")
    assert m.data["services"]["chat"]["env"] == "none"
    assert ("services", "chat", "env", "A") not in m.spans


def test_plain_scalar_provenance_follows_the_winning_layer():
    m = merged("services:\n  chat:\n    gpu: 'H100'\n")
    assert ("services", "chat", "gpu") not in m.plain_scalars
    assert ("services", "chat", "region") in m.plain_scalars


def test_merge_does_not_modify_the_layers():
    base, overlay = parse_yaml(BASE, "base.yaml"), parse_yaml("services:\n  chat: {gpu: H100}\n", "prod.yaml")
    merge_layers([base, overlay])
    assert base.data["services"]["chat"]["gpu"] == "A100"


def test_toml_overlay_on_yaml_base():
    m = merge_layers([parse_yaml(BASE, "base.yaml"), parse_toml('[services.chat]\ngpu = "H100"\n', "prod.toml")])
    assert m.data["services"]["chat"]["gpu"] == "H100"
    assert m.spans[("services", "chat", "gpu")].value.file == "prod.toml"
    assert m.files == ("base.yaml", "prod.toml")


def test_single_layer_merge_is_the_layer():
    base = parse_yaml(BASE, "base.yaml")
    m = merge_layers([base])
    assert m.data == base.data and m.spans == base.spans and m.files == ("base.yaml",)
