"""Blueprint <-> JSON, the one serialisation every consumer shares.

`to_json` is what `mdeploy plan --format json` prints and what the container receives in
`MDEPLOY_BLUEPRINT`; `from_json` rebuilds the identical dataclasses. Output is deterministic:
dataclass fields in declaration order, mapping keys sorted, no floats formatted by locale.

Modal bounds the size of a secret value, so `encode_for_env` compresses a large Blueprint behind
the `mdeploy-zlib:` prefix; `decode_from_env` accepts that and plain JSON alike (tests and tools
set plain JSON by hand). Standard library only: this is on the container's import path.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import types
import typing
import zlib
from functools import cache
from typing import Any

from engine.blueprint.model import BLUEPRINT_VERSION, Blueprint

ENV_VAR = "MDEPLOY_BLUEPRINT"
COMPRESSED_PREFIX = "mdeploy-zlib:"
# Modal reports 32,768 characters per secret value; stay well under it.
PLAIN_ENV_LIMIT = 16_000


class BlueprintDecodeError(ValueError):
    """The text is not a Blueprint this version of mdeploy understands."""


def to_data(obj: Any) -> Any:
    """Dataclasses -> plain JSON data (dicts, lists, scalars), keys of mappings sorted."""
    names = _field_names(type(obj))  # type: ignore[arg-type]  # every type is hashable
    if names is not None:
        return {name: to_data(getattr(obj, name)) for name in names}
    if isinstance(obj, (tuple, list)):
        return [to_data(item) for item in obj]
    if isinstance(obj, dict):
        return {str(k): to_data(obj[k]) for k in sorted(obj)}
    return obj


@cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    """The field names of a dataclass type, in declaration order; None for any other type.
    Cached: `dataclasses.fields` per object was a fifth of building an app (every deploy, every
    container start, every manifest `validate` builds)."""
    if not dataclasses.is_dataclass(cls):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def to_json(blueprint: Blueprint, *, indent: int | None = 2) -> str:
    separators = (",", ": ") if indent is not None else (",", ":")
    return json.dumps(to_data(blueprint), indent=indent, separators=separators, ensure_ascii=False)


def from_data(cls: Any, data: Any) -> Any:
    """Plain JSON data -> an instance of `cls`, following the dataclasses' type hints."""
    return _convert(cls, data, "blueprint")


def from_json(text: str) -> Blueprint:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BlueprintDecodeError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BlueprintDecodeError("a Blueprint is a JSON object")
    version = data.get("version")
    if version != BLUEPRINT_VERSION:
        raise BlueprintDecodeError(
            f"Blueprint version {version!r} is not {BLUEPRINT_VERSION}: deploy with the same mdeploy version"
        )
    blueprint: Blueprint = _convert(Blueprint, data, "blueprint")
    return blueprint


def encode_for_env(blueprint: Blueprint) -> str:
    """The value for MDEPLOY_BLUEPRINT: plain compact JSON, or compressed when large."""
    text = to_json(blueprint, indent=None)
    if len(text) <= PLAIN_ENV_LIMIT:
        return text
    packed = base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    return COMPRESSED_PREFIX + packed


def decode_from_env(value: str) -> Blueprint:
    if value.startswith(COMPRESSED_PREFIX):
        try:
            value = zlib.decompress(base64.b64decode(value[len(COMPRESSED_PREFIX) :])).decode("utf-8")
        except (ValueError, zlib.error) as exc:
            raise BlueprintDecodeError(f"corrupt compressed Blueprint: {exc}") from None
    return from_json(value)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _literal_values(options: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """The values of a Literal, or of a union of Literals (`EngineName | Literal[""]`); None when
    `options` are not all Literals."""
    if not options or any(typing.get_origin(o) is not typing.Literal for o in options):
        return None
    return tuple(value for o in options for value in typing.get_args(o))


def _convert(tp: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(tp)
        if data is None and type(None) in options:
            return None
        inner_options = tuple(o for o in options if o is not type(None))
        allowed = _literal_values(inner_options)
        if allowed is not None:
            return _literal(allowed, data, where)
        if len(inner_options) > 1 and all(o in _SCALARS for o in inner_options):
            return _scalar_of(inner_options, data, where)
        (inner,) = inner_options
        return _convert(inner, data, where)
    if origin is typing.Literal:
        return _literal(typing.get_args(tp), data, where)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(data, dict):
            raise BlueprintDecodeError(f"{where}: expected an object")
        hints = _hints(tp)
        names = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise BlueprintDecodeError(f"{where}: unknown fields {unknown}")
        kwargs = {name: _convert(hints[name], value, f"{where}.{name}") for name, value in data.items()}
        try:
            return tp(**kwargs)
        except TypeError as exc:
            raise BlueprintDecodeError(f"{where}: {exc}") from None
    if origin is tuple:
        if not isinstance(data, list):
            raise BlueprintDecodeError(f"{where}: expected a list")
        (item_type, _ellipsis) = typing.get_args(tp)
        return tuple(_convert(item_type, item, f"{where}[{i}]") for i, item in enumerate(data))
    if origin is dict:
        if not isinstance(data, dict):
            raise BlueprintDecodeError(f"{where}: expected an object")
        _key_type, value_type = typing.get_args(tp)
        return {k: _convert(value_type, v, f"{where}.{k}") for k, v in data.items()}
    if tp is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if tp in (str, int, float, bool):
        if not isinstance(data, tp) or (tp is int and isinstance(data, bool)):
            raise BlueprintDecodeError(f"{where}: expected {tp.__name__}, got {type(data).__name__}")
        return data
    raise BlueprintDecodeError(f"{where}: unsupported type {tp!r}")


_SCALARS = (str, int, float, bool)


def _scalar_of(options: tuple[Any, ...], data: Any, where: str) -> Any:
    """`data` if its own type is one of the scalar `options` (`str | int | bool`: a class
    parameter's default); JSON keeps the type, so true stays a bool and 1 an int."""
    if type(data) in options:
        return data
    names = " | ".join(o.__name__ for o in options)
    raise BlueprintDecodeError(f"{where}: expected {names}, got {type(data).__name__}")


def _literal(allowed: tuple[Any, ...], data: Any, where: str) -> Any:
    """`data` if it is one of the closed set `allowed` (the same value and type), else an error."""
    if any(data == value and type(data) is type(value) for value in allowed):
        return data
    raise BlueprintDecodeError(f"{where}: {data!r} is not one of {', '.join(repr(v) for v in allowed)}")
