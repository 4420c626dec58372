"""A fake token of every recognised kind, placed in every string field of a full manifest (base
or overlay), is rejected at its exact position, and no message repeats it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from engine.manifest.errors import ManifestError
from engine.manifest.load import read_layer
from engine.manifest.translate import dotted
from engine.manifest.validate import load_manifest

REPO = Path(__file__).resolve().parents[2]
FULL_MANIFESTS = [
    REPO / "tests" / "manifest" / "data" / "valid" / "everything.yaml",
    REPO / "tests" / "blueprint" / "data" / "kitchen-sink.yaml",
]


def fake_token(kind: str, n: int) -> str:
    """A token of `kind` that secrets_scan.py recognises, distinct for each `n` (never a real one)."""
    tail = f"{n:04d}"
    return {
        "huggingface": f"hf_FakeTokenForTestsOnly{tail}abcdefghijklmnop",
        "sk": f"sk-FakeKeyForTestsOnly{tail}abcdefghijkl",
        "aws": f"AKIAFAKE{tail}TESTONLY",
        "github": f"ghp_FakeTokenForTestsOnly{tail}abcdefghijklmn",
        "github-pat": f"github_pat_FakeForTestsOnly{tail}abcdefgh",
        "slack": f"xoxb-fake-{tail}-testsonly",
    }[kind]


TOKEN_KINDS = ["huggingface", "sk", "aws", "github", "github-pat", "slack"]
# Random-looking strings count as secrets only as `env` values, where a pasted key usually lands.
RANDOM_IN_ENV = "q8ZfT3vLw0XyP2mNc7RbK5sJd1HgA9eU{n:04d}"


def string_leaves(data, path=()):
    """(path, value) of every string value (not key) in `data`."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from string_leaves(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from string_leaves(value, path + (index,))


def _replace(data, path, value):
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _dump(data) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _assert_each_token_rejected_where_it_is(file: Path, placed: dict[tuple, str], other_files=()):
    text = file.read_text()
    with pytest.raises(ManifestError) as caught:
        load_manifest(other_files[0] if other_files else file, "prod" if other_files else None, environ={})
    problems = caught.value.problems
    lines = text.splitlines()
    for path, token in placed.items():
        found = [p for p in problems if p.key == dotted(path) and "looks like a secret" in p.message]
        assert found, f"no secret problem at {dotted(path)}"
        where = found[0].location
        assert where.file == file.as_posix()
        at = lines[where.line - 1][where.col - 1 :]
        assert at.startswith(token) or at[1:].startswith(token), f"{dotted(path)} reported at {where}: {at[:60]!r}"
    everything = caught.value.format()
    for token in placed.values():
        assert token not in everything


@pytest.mark.parametrize("kind", TOKEN_KINDS)
@pytest.mark.parametrize("source", FULL_MANIFESTS, ids=lambda p: p.name)
def test_token_in_every_string_field_is_rejected_at_its_position(tmp_path, source, kind):
    data = read_layer(source).data
    placed = {}
    for n, (path, _) in enumerate(list(string_leaves(data))):
        placed[path] = fake_token(kind, n)
        _replace(data, path, placed[path])
    assert len(placed) > 40  # the walk really reached the whole manifest
    target = tmp_path / "manifest.yaml"
    target.write_text(_dump(data))
    _assert_each_token_rejected_where_it_is(target, placed)


@pytest.mark.parametrize("source", FULL_MANIFESTS, ids=lambda p: p.name)
def test_random_string_in_every_env_value_is_rejected_at_its_position(tmp_path, source):
    data = read_layer(source).data
    placed = {}
    for n, (path, _) in enumerate(list(string_leaves(data))):
        if len(path) >= 2 and path[-2] == "env":
            placed[path] = RANDOM_IN_ENV.format(n=n)
            _replace(data, path, placed[path])
    assert placed
    target = tmp_path / "manifest.yaml"
    target.write_text(_dump(data))
    _assert_each_token_rejected_where_it_is(target, placed)


@pytest.mark.parametrize("kind", TOKEN_KINDS)
def test_token_in_every_string_field_of_an_overlay_is_rejected_in_the_overlay(tmp_path, kind):
    source = REPO / "tests" / "blueprint" / "data" / "kitchen-sink.yaml"
    base = tmp_path / "app.yaml"
    base.write_text(source.read_text())
    overlay_data = read_layer(source).data  # the whole manifest again, as an overlay: every field
    placed = {}
    for n, (path, _) in enumerate(list(string_leaves(overlay_data))):
        placed[path] = fake_token(kind, n)
        _replace(overlay_data, path, placed[path])
    overlay = tmp_path / "app.prod.yaml"
    overlay.write_text(_dump(overlay_data))
    _assert_each_token_rejected_where_it_is(overlay, placed, other_files=(base,))
