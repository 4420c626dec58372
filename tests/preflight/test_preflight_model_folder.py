"""Model and fit checks for a model given as a `path:` folder, read from a folder in tmp_path."""

from __future__ import annotations

import json
import struct

import pytest

from engine.preflight.checks import FAIL, PASS, SKIP, run_checks
from engine.preflight.model_folder import ModelFolderError, ModelFolders
from engine.preflight.probes import Unavailable

# A relative path starts with "." (`_hub_model` reads "org/name" as a Hub id), like the tiny overlay's default.
FOLDER = "./models/llama"


def _write_safetensors(path, tensors: dict[str, list[int]]) -> None:
    """A safetensors file by hand: header length, JSON header, then zeroed float16 data."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in tensors.items():
        size = 2 * (shape[0] * shape[1])
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + bytes(offset))


@pytest.fixture
def folder(tmp_path, fakes):
    path = tmp_path / FOLDER
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps(fakes["config"]))
    return path


def _results(fakes, tmp_path, *, model=FOLDER, gpu=("H100",), settings=None):
    settings = dict(context_length=4096, max_sequences=1) if settings is None else settings
    server = fakes["make_server"](model=model, gpu=gpu, **settings)
    blueprint = fakes["make_blueprint"](servers=(server,), secrets=(), volumes=())
    # No Hub at all: a folder on this machine must not need it.
    results = run_checks(blueprint, Unavailable("no Modal"), Unavailable("no network"), ModelFolders(tmp_path))
    return {r.check: r for r in results}


def test_a_model_folder_here_with_a_config_passes_the_model_check(fakes, tmp_path, folder):
    result = _results(fakes, tmp_path)["model chat"]
    assert result.status == PASS and FOLDER in result.message


def test_a_model_folder_here_without_a_config_fails_the_model_check(fakes, tmp_path, folder):
    (folder / "config.json").unlink()
    result = _results(fakes, tmp_path)["model chat"]
    assert result.status == FAIL and "has no config.json" in result.message


def test_a_model_folder_config_that_is_not_json_fails_the_model_check(fakes, tmp_path, folder):
    (folder / "config.json").write_text("{not json")
    result = _results(fakes, tmp_path)["model chat"]
    assert result.status == FAIL and "cannot be read as JSON" in result.message


def test_a_model_path_not_on_this_machine_skips_both_checks_saying_so(fakes, tmp_path):
    results = _results(fakes, tmp_path, model=str(tmp_path / "absent"))
    for check in ("model chat", "fit chat"):
        assert results[check].status == SKIP and "not on this machine" in results[check].message


def test_the_fit_of_a_model_folder_is_judged_from_its_config(fakes, tmp_path, folder):
    # Llama 8B's shape at its own 131072-token context: 15 GiB of weights and a 16 GiB sequence overflow an L4.
    result = _results(fakes, tmp_path, gpu=("L4",), settings={})["fit chat"]
    assert result.status == FAIL and "cannot start" in result.message


def test_without_safetensors_the_weights_are_estimated_from_the_config(fakes, tmp_path, folder):
    result = _results(fakes, tmp_path)["fit chat"]
    assert result.status == PASS and "estimated from the config" in result.message


def test_with_safetensors_the_weights_are_counted_from_their_headers(fakes, tmp_path, folder):
    _write_safetensors(folder / "model-00001-of-00002.safetensors", {"a": [1000, 1000]})
    _write_safetensors(folder / "model-00002-of-00002.safetensors", {"b": [500, 1000], "c": [10, 10]})
    assert ModelFolders(tmp_path).parameter_count(folder) == 1_500_100
    result = _results(fakes, tmp_path)["fit chat"]
    # 1.5M bfloat16 parameters are 0.0 GiB, where the 8B estimate would be about 15 GiB.
    assert result.status == PASS and "weights 0.0 GiB" in result.message and "estimated" not in result.message


def test_a_file_that_is_not_safetensors_is_a_model_folder_error(tmp_path, folder):
    (folder / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(ModelFolderError, match="not a readable safetensors file"):
        ModelFolders(tmp_path).parameter_count(folder)
