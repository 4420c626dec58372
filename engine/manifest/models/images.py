"""Named image recipes: a base (`debian_slim` with a Python version, or a registry image), then
apt packages, pip packages, env, run commands, a workdir and extra local Python packages."""

from __future__ import annotations

import posixpath
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from engine.manifest.models.base import StrictModel, StrTuple, fail
from engine.manifest.models.python_versions import BUILDABLE, check_python_series
from engine.manifest.models.requirements import requirement_problem
from engine.manifest.models.shorthands import EnvName

PYTHON_VERSION_PATTERN = r"^3\.[0-9]{1,2}$"
_PYTHON_RE = re.compile(PYTHON_VERSION_PATTERN)
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

PythonVersion = Annotated[
    str,
    Field(pattern=PYTHON_VERSION_PATTERN),
    AfterValidator(check_python_series),
    WithJsonSchema({"type": "string", "enum": BUILDABLE}),
]
"""A Python series some image builder of Modal 1.6 supports ("3.12")."""

EnvMap = Annotated[
    dict[EnvName, str],
    Field(
        description="Environment variables (NAME: value). Values are text: quote numbers. Never put secret values here; use `secrets`."
    ),
]


class Image(StrictModel):
    """An image recipe. Steps run in a fixed order: apt, pip, env, run, workdir, local sources."""

    python: Annotated[
        PythonVersion | None,
        Field(
            description='Python version, e.g. "3.12" (quote it: 3.10 unquoted is the number 3.1): a series Modal\'s image builders support, 3.11 to 3.15 (3.10 still builds on older builders, with a warning). Default for debian_slim: "3.12"; with `registry`, Python is added only when set.',
        ),
    ] = None
    registry: Annotated[
        str | None,
        Field(
            description='Registry image to start from, e.g. "nvidia/cuda:12.8.0-devel-ubuntu22.04"; default: Modal\'s debian_slim.',
            min_length=1,
        ),
    ] = None
    clear_entrypoint: Annotated[
        bool | None,
        Field(
            description="Clear the registry image's entrypoint (NVIDIA images print a banner otherwise). Default: true for registry images."
        ),
    ] = None
    apt: Annotated[StrTuple, Field(description="Debian packages to apt-get install.")] = ()
    pip: Annotated[
        StrTuple,
        Field(description='Python requirement specifiers, e.g. "vllm==0.11.0". Pin versions for reproducible images.'),
    ] = ()
    installer: Annotated[
        Literal["uv", "pip"] | None,
        Field(
            description='Installs `pip` packages with uv (`uv_pip_install`, fast) or pip (`pip_install`). Default: "uv".'
        ),
    ] = None
    index_url: Annotated[str | None, Field(description="Package index replacing PyPI for `pip`.")] = None
    extra_index_url: Annotated[
        str | None, Field(description="Extra package index for `pip` (e.g. NVIDIA's for TensorRT-LLM).")
    ] = None
    env: EnvMap = {}
    run: Annotated[StrTuple, Field(description="Shell commands run after the installs (`run_commands`).")] = ()
    workdir: Annotated[str | None, Field(description="Working directory of the container (absolute).")] = None
    python_sources: Annotated[
        StrTuple,
        Field(
            description="Local Python packages to add to the image (handler packages and `engine` are added automatically)."
        ),
    ] = ()

    @model_validator(mode="after")
    def _check(self) -> Image:
        if self.workdir is not None and not self.workdir.startswith("/"):
            raise fail("workdir must be an absolute path", hint=f"write '/{self.workdir}'", at=("workdir",))
        if self.workdir is not None and ".." in self.workdir.split("/"):
            raise fail(
                "workdir cannot contain '..'",
                hint=f"write the folder it means: '{posixpath.normpath(self.workdir)}'",
                at=("workdir",),
            )
        for index, requirement in enumerate(self.pip):
            problem = requirement_problem(requirement)
            if problem is not None:
                hint = (
                    "pip options are not packages: give an index with index_url or extra_index_url"
                    if requirement.lstrip().startswith("-")
                    else 'write a requirement like "vllm==0.11.0" or "name @ https://..."'
                )
                raise fail(f"is not a pip requirement: {problem}", hint=hint, at=("pip", index))
        for index, module in enumerate(self.python_sources):
            if not _MODULE_RE.match(module):
                raise fail(
                    "is not a Python package name",
                    hint="write an importable name, e.g. mypkg",
                    at=("python_sources", index),
                )
        if (self.index_url or self.extra_index_url) and not self.pip:
            at = ("index_url",) if self.index_url else ("extra_index_url",)
            raise fail(
                "a package index without `pip` packages does nothing",
                hint="add the packages to `pip` or remove it",
                at=at,
            )
        return self
