"""A model given as a `path:` folder, read on this machine when it is here.

A relative path is a folder beside the manifest's project (what `mdeploy serve` loads); an
absolute one usually lives in a Modal volume and is not here, so its checks are skipped. When
the folder is here, its `config.json` feeds the same fit arithmetic as a Hub model's, and its
parameter count comes from the safetensors headers, as the Hub's safetensors metadata does.
"""

from __future__ import annotations

import json
import struct
from math import prod
from pathlib import Path
from typing import Any

# A safetensors file opens with the length of its JSON header (u64, little-endian); no header is
# anywhere near this large, so a bigger number means the file is not safetensors.
_HEADER_LIMIT = 100 * 1024 * 1024


class ModelFolderError(Exception):
    """The folder is here but is not a usable model folder; the message says what is wrong."""


class ModelFolders:
    """Model folders as seen from `root` (the project root, where `mdeploy serve` runs engines)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def find(self, model: str) -> Path | None:
        """The folder when `model` names something on this machine, else None."""
        path = self.root / model
        return path if path.exists() else None

    def config(self, folder: Path) -> dict[str, Any]:
        if not folder.is_dir():
            raise ModelFolderError(f"{folder} is not a folder: a model path names the folder that holds config.json")
        config_path = folder / "config.json"
        if not config_path.is_file():
            raise ModelFolderError(f"{folder} has no config.json: save the model with save_pretrained, or fix the path")
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelFolderError(f"{config_path} cannot be read as JSON: {exc}") from None
        if not isinstance(config, dict):
            raise ModelFolderError(f"{config_path} is not a JSON object")
        return config

    def parameter_count(self, folder: Path) -> int | None:
        """Parameters in the folder's *.safetensors files; None when there are none."""
        files = sorted(folder.glob("*.safetensors"))
        if not files:
            return None
        return sum(_safetensors_parameters(path) for path in files)


def _safetensors_parameters(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            if length > _HEADER_LIMIT:
                raise ValueError(f"header length {length}")
            header = json.loads(handle.read(length))
        return sum(prod(tensor["shape"]) for name, tensor in header.items() if name != "__metadata__")
    except (OSError, struct.error, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ModelFolderError(f"{path} is not a readable safetensors file ({type(exc).__name__}: {exc})") from None
