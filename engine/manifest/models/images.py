"""Named image recipes: a base (`debian_slim` with a Python version, or a registry image), then
build steps, and extra local Python packages.

The steps come in one of two forms, never both in one image: the ordered list `steps:` (each
item one step, run in the order written: image_steps.py), or the unordered keys `apt`, `pip`,
`env`, `run` and `workdir`, which run in that fixed order (the original form, kept as it was)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from engine.manifest.models.base import StrictModel, StrTuple, TupleOf, fail
from engine.manifest.models.image_steps import (
    ExtraIndexUrl,
    FindLinks,
    ImageStepItem,
    IndexUrl,
    Installer,
    Pre,
    check_workdir,
    pip_problems,
)
from engine.manifest.models.python_versions import BUILDABLE, check_python_series
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
    """An image recipe: `steps` run in the order written; or the unordered keys, which run apt,
    pip, env, run, workdir. Local Python sources come last either way."""

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
    steps: Annotated[
        TupleOf[ImageStepItem] | None,
        Field(
            description="Build steps in the order they run, each one item: `- apt: [...]`, `- pip: [...]` (with its options beside it), `- env: {...}`, `- run: [...]`, `- workdir: /path`, `- add_local_file: {src, dest}`, `- add_local_dir: {src, dest, ignore}`, `- run_function: {handler, gpu, cpu, memory, secrets, env, volumes, models, timeout}`, `- models: [KEY, ...]` (hub models baked into the image). Not with the unordered keys apt, pip, env, run, workdir."
        ),
    ] = None
    apt: Annotated[StrTuple, Field(description="Debian packages to apt-get install (unordered form).")] = ()
    pip: Annotated[
        StrTuple,
        Field(
            description='Python requirement specifiers, e.g. "vllm==0.11.0" (unordered form). Pin versions for reproducible images.'
        ),
    ] = ()
    installer: Installer = None
    index_url: IndexUrl = None
    extra_index_url: ExtraIndexUrl = None
    find_links: FindLinks = None
    pre: Pre = None
    env: EnvMap = {}
    run: Annotated[
        StrTuple, Field(description="Shell commands run after the installs (`run_commands`; unordered form).")
    ] = ()
    workdir: Annotated[
        str | None, Field(description="Working directory of the container (absolute; unordered form).")
    ] = None
    python_sources: Annotated[
        StrTuple,
        Field(
            description="Local Python packages to add to the image (handler packages and `engine` are added automatically)."
        ),
    ] = ()

    @model_validator(mode="after")
    def _check(self) -> Image:
        if self.steps is not None:
            self._refuse_mixed_forms()
        if self.workdir is not None:
            check_workdir(self.workdir, ("workdir",))
        pip_problems(self.pip, ("pip",))
        for index, module in enumerate(self.python_sources):
            if not _MODULE_RE.match(module):
                raise fail(
                    "is not a Python package name",
                    hint="write an importable name, e.g. mypkg",
                    at=("python_sources", index),
                )
        options = [k for k in ("index_url", "extra_index_url", "find_links", "pre") if getattr(self, k) is not None]
        if options and not self.pip:
            raise fail(
                "a pip option without `pip` packages does nothing",
                hint="add the packages to `pip` or remove it",
                at=(options[0],),
            )
        return self

    def _refuse_mixed_forms(self) -> None:
        """`steps` fixes the order; an unordered key beside it would have no place in it."""
        for key in UNORDERED_KEYS:
            if key in self.model_fields_set:
                hint = (
                    f"move it into `steps` as an item ('- {key}: ...') where it should run"
                    if key in ("apt", "pip", "env", "run", "workdir")
                    else "write it beside `pip:` in the `pip` item of `steps` it applies to"
                )
                raise fail(
                    f"`{key}` cannot be used with `steps`: an image uses one form or the other", hint=hint, at=(key,)
                )


# The keys of the unordered form, refused beside `steps` (installer too: in `steps` it is an
# option of each pip item, so an image-wide one would be a third place to look).
UNORDERED_KEYS = (
    "apt",
    "pip",
    "env",
    "run",
    "workdir",
    "installer",
    "index_url",
    "extra_index_url",
    "find_links",
    "pre",
)
