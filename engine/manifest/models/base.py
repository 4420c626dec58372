"""The one base model every manifest model inherits, and the one way a model reports a mistake.

Why strict: a manifest is reviewed configuration, and the worst outcome is a typo that silently
does nothing. `extra="forbid"` turns `scaledown_windw: 5m` into an error instead of a default
that nobody asked for; `strict=True` stops pydantic from coercing what a YAML 1.1 habit produced
(`enabled: "no"` becoming False, `python: 3.10` becoming "3.1", `revision: 1` becoming "1") — the
user must write the type they mean. `frozen=True` because a validated manifest is a value: the
planner reads it and never edits it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from engine.manifest.source import KeyPath

# The pydantic error type our own validators raise; `validate.py` reads its context.
MDEPLOY_ERROR = "mdeploy"


class StrictModel(BaseModel):
    """Base of every manifest model: unknown keys are errors, types are not coerced, values are frozen.

    Rejecting unknown fields is what makes a typo visible (see the module docstring): without it a
    misspelt key is dropped and its default quietly used.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, hide_input_in_errors=False)


def fail(message: str, *, hint: str | None = None, at: tuple[str | int, ...] = ()) -> PydanticCustomError:
    """An error for a validator to raise: `message` and `hint` are shown as they are (never put a
    value that could be a secret in them); `at` is the key path below the validated model where
    the mistake is (a model-level check about one field points at that field)."""
    return PydanticCustomError(MDEPLOY_ERROR, "{message}", {"message": message, "hint": hint, "at": at})


def _list_as_tuple(value: Any) -> Any:
    # Manifests hold lists; validated models hold tuples (immutable, hashable). Strict mode accepts
    # only a real tuple, so the YAML/TOML list is converted first and anything else left to fail.
    return tuple(value) if isinstance(value, list) else value


_Item = TypeVar("_Item")

TupleOf = Annotated[tuple[_Item, ...], BeforeValidator(_list_as_tuple)]
"""`TupleOf[item]`: a list in the manifest, a tuple of `item` after validation."""


StrTuple = TupleOf[str]
"""A list of strings in the manifest, a tuple after validation."""


def one_or_many(value: Any) -> Any:
    """`region: us-east` and `region: [us-east, us-west]` mean the same: a tuple of strings."""
    if isinstance(value, str):
        return (value,)
    return _list_as_tuple(value)


def container_bodies(data: dict[str, Any]) -> Iterator[tuple[KeyPath, Any]]:
    """(path, body) of `defaults` and of every service and function in raw manifest data; a body
    may be anything (the models report what is not a mapping)."""
    yield ("defaults",), data.get("defaults")
    for section in ("services", "functions"):
        bodies = data.get(section)
        for key, body in bodies.items() if isinstance(bodies, dict) else ():
            yield (section, key), body


def check_one_path_per_volume(volumes: dict[str, str]) -> None:
    """Mount path -> volume key: Modal mounts a volume at one path per container (functions,
    servers and build steps alike)."""
    seen: dict[str, str] = {}
    for path, key in volumes.items():
        if key in seen:
            raise fail(
                f"volume {key!r} is already mounted at {seen[key]}",
                hint="Modal mounts a volume at one path per container",
                at=("volumes", path),
            )
        seen[key] = path


def build_function_bodies(data: dict[str, Any]) -> Iterator[tuple[KeyPath, Any]]:
    """(path, body) of every image's `run_function` build steps in raw manifest data (the body
    may be anything, as above): they name secrets, volumes and models as functions do."""
    images = data.get("images")
    for key, image in images.items() if isinstance(images, dict) else ():
        steps = image.get("steps") if isinstance(image, dict) else None
        for index, item in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(item, dict) and "run_function" in item:
                yield ("images", key, "steps", index, "run_function"), item["run_function"]


class Finding:
    """A problem found by a check over the raw manifest data (references, names, secrets), before
    it is located: `path` is the manifest key path; `on_key` points at the key, not its value;
    `severity` is "error" or "warning" (see `Problem`)."""

    __slots__ = ("path", "message", "hint", "on_key", "severity")

    def __init__(
        self, path: KeyPath, message: str, hint: str | None = None, *, on_key: bool = False, severity: str = "error"
    ):
        self.path, self.message, self.hint, self.on_key, self.severity = tuple(path), message, hint, on_key, severity

    def __repr__(self) -> str:
        return (
            f"Finding({self.path!r}, {self.message!r}, {self.hint!r}, on_key={self.on_key}, severity={self.severity!r})"
        )
