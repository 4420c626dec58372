"""`parameters:` of a `kind: cls` function: Modal's class parameters (`modal.parameter()`).

Each parameter is a typed attribute of the Modal class; callers bind them when they build an
instance (`modal.Cls.from_name(app, "Reranker")(model_name="...")`), and each distinct set of
values is a pool of containers of its own. mdeploy hands them to the user's class as keyword
arguments of its constructor. Modal's rules, checked here: a parameter is str, int, bool or
bytes (the types `modal.parameter()` serializes), its default is of that type, and its name is a
Python identifier (mdeploy's own attributes start with "_", so a parameter's may not).
"""

from __future__ import annotations

import keyword
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from engine.manifest.models.base import StrictModel, fail

PARAMETER_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
# Modal sends an int parameter as a protobuf sint64.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ParameterType = Literal["str", "int", "bool", "bytes"]
# The Python type a default of each parameter type is written as: YAML has no bytes, so a bytes
# default is a string, encoded as UTF-8.
_DEFAULT_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool, "bytes": str}


# What a default's type is called where it was written.
_YAML_NAMES: dict[type, str] = {str: "text", int: "an integer", bool: "true/false"}


def _check_parameter_name(name: str) -> str:
    if not re.fullmatch(PARAMETER_NAME_PATTERN, name):
        raise fail(
            f"{name!r} is not a parameter name: a Python identifier that starts with a letter"
            + (" (names with a leading _ are mdeploy's own)" if name.startswith("_") else ""),
            hint="name it as a Python attribute, e.g. model_name",
        )
    if keyword.iskeyword(name):
        raise fail(f"{name!r} is a Python keyword, not a parameter name", hint="name it as a Python attribute")
    return name


ParameterName = Annotated[
    str,
    # The pattern is checked by _check_parameter_name, whose message says what a name may be;
    # the schema still carries it for editors.
    Field(
        json_schema_extra={"pattern": PARAMETER_NAME_PATTERN},
        description="A class parameter (a Python identifier, no leading _).",
    ),
    AfterValidator(_check_parameter_name),
]


def _type_shorthand(value: Any) -> Any:
    """`model_name: str` is `model_name: {type: str}`: a parameter every caller must give."""
    return {"type": value} if isinstance(value, str) else value


class ClassParameter(StrictModel):
    """One `modal.parameter()` of the class: its type, and the value callers who omit it get."""

    type: Annotated[ParameterType, Field(description="str, int, bool or bytes (what Modal's class parameters take).")]
    default: Annotated[
        str | int | bool | None,
        Field(
            description="The value when a caller leaves it out (a bytes default is written as text, sent as UTF-8); "
            "none: every caller must give it."
        ),
    ] = None

    @model_validator(mode="after")
    def _check(self) -> ClassParameter:
        if self.default is None:
            return self
        wanted = _DEFAULT_TYPES[self.type]
        # bool is an int in Python; YAML's `true` is no int default, nor 1 a bool one.
        if type(self.default) is not wanted:
            written = {"str": "text", "bytes": "text", "int": "an integer", "bool": "true or false"}[self.type]
            raise fail(
                f"the default of {'an' if self.type == 'int' else 'a'} {self.type} parameter must be {written}, not {_YAML_NAMES[type(self.default)]}",
                hint='quote it to make it text, e.g. default: "1"' if wanted is str else f"write {written}",
                at=("default",),
            )
        if isinstance(self.default, int) and not isinstance(self.default, bool):
            if not INT64_MIN <= self.default <= INT64_MAX:
                raise fail(
                    "is outside the 64-bit range Modal sends an int parameter in", hint="use a str", at=("default",)
                )
        return self


ParameterField = Annotated[
    ClassParameter,
    BeforeValidator(_type_shorthand, json_schema_input_type=ParameterType | ClassParameter),
]

ParametersField = Annotated[
    dict[ParameterName, ParameterField],
    Field(
        description="Class parameters (`modal.parameter()`) by name: a type (`name: str`, required) or {type, default}; "
        "callers bind them with Cls.from_name(app, name)(name=...), and the class receives them as keyword arguments."
    ),
]

__all__ = ["ClassParameter", "ParameterType", "ParametersField"]
