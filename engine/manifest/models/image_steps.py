"""The ordered form of an image recipe: `steps:`, a list whose items each name one build step.

Modal builds an image as a chain of layers, one per method call, in the order they are called;
the order matters (a `run` that needs a package must come after the `pip` that installs it, a
`run_function` that reads a local file after the file is added). So every step is one list item
with exactly one step key, and the planner keeps the list's order.

Local paths (`src`) are relative to the project root (the folder `handler` modules are found
under): absolute paths and paths leaving the project are refused here; a path that is not there
is reported by the project checks (engine/project/checks.py), which read the file system.
"""

from __future__ import annotations

import posixpath
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from engine.manifest.models.base import StrictModel, StrTuple, TupleOf, check_one_path_per_volume, fail, one_or_many
from engine.manifest.models.requirements import requirement_problem
from engine.manifest.models.resources import Cpu, MemoryMiB
from engine.manifest.models.shorthands import DurationSeconds, EnvName, Gpu, ImportPath, MountPath

# Modal's longest function timeout; container.py has the same bound (it imports this module's
# users, so the constant cannot come from there).
MAX_BUILD_TIMEOUT = 24 * 3600
BuildSecrets = Annotated[
    tuple[str, ...],
    BeforeValidator(one_or_many, json_schema_input_type=str | list[str]),
    Field(description="Keys of `secrets` whose values the build function sees as environment variables."),
]

# The keys that are a build step; every item of `steps` has exactly one of them.
STEP_KEYS = ("apt", "pip", "env", "run", "workdir", "add_local_file", "add_local_dir", "run_function", "models")
# The options of a `pip` step, written beside `pip:` in the same item.
PIP_OPTIONS = ("installer", "index_url", "extra_index_url", "find_links", "pre")

Installer = Annotated[
    Literal["uv", "pip"] | None,
    Field(
        description='Installs `pip` packages with uv (`uv_pip_install`, fast) or pip (`pip_install`). Default: "uv".'
    ),
]
IndexUrl = Annotated[
    str | None, Field(description="Package index replacing PyPI for `pip` (`--index-url`).", min_length=1)
]
ExtraIndexUrl = Annotated[
    str | None,
    Field(
        description="Extra package index for `pip` (`--extra-index-url`; e.g. NVIDIA's for TensorRT-LLM).", min_length=1
    ),
]
FindLinks = Annotated[
    str | None, Field(description="A page or folder URL of wheels for `pip` (`--find-links`).", min_length=1)
]
Pre = Annotated[
    bool | None,
    Field(description="Let `pip` install pre-release versions (pip `--pre`, uv `--prerelease allow`). Default: false."),
]


def pip_problems(packages: tuple[str, ...], at: tuple[str | int, ...]) -> None:
    """Each entry of a `pip` list must be a requirement, not an option."""
    for index, requirement in enumerate(packages):
        problem = requirement_problem(requirement)
        if problem is not None:
            hint = (
                "pip options are not packages: give an index with index_url, extra_index_url or find_links, pre-releases with pre: true"
                if requirement.lstrip().startswith("-")
                else 'write a requirement like "vllm==0.11.0" or "name @ https://..."'
            )
            raise fail(f"is not a pip requirement: {problem}", hint=hint, at=(*at, index))


def check_workdir(workdir: str, at: tuple[str | int, ...]) -> None:
    if not workdir.startswith("/"):
        raise fail("workdir must be an absolute path", hint=f"write '/{workdir}'", at=at)
    if ".." in workdir.split("/"):
        raise fail(
            "workdir cannot contain '..'", hint=f"write the folder it means: '{posixpath.normpath(workdir)}'", at=at
        )


def _check_local_src(src: str) -> None:
    """A local path is the project's: relative to its root, never leaving it."""
    if src.startswith("/") or src.startswith("~") or (len(src) > 1 and src[1] == ":"):
        raise fail(
            "a local path is relative to the project root, not absolute",
            hint="write the path from the project root (the folder holding pyproject.toml or .git), e.g. 'assets/config.json'",
            at=("src",),
        )
    normal = posixpath.normpath(src.replace("\\", "/"))
    if normal == ".." or normal.startswith("../"):
        raise fail(
            "a local path cannot leave the project",
            hint="only the project's own files are shipped: move or copy the file under the project root",
            at=("src",),
        )


def _check_dest(dest: str) -> None:
    if not dest.startswith("/"):
        raise fail("dest must be an absolute path in the container", hint=f"write '/{dest}'", at=("dest",))
    if ".." in dest.split("/"):
        raise fail("dest cannot contain '..'", hint=f"write '{posixpath.normpath(dest)}'", at=("dest",))


class LocalFile(StrictModel):
    """A project file put into the image (`Image.add_local_file`)."""

    src: Annotated[str, Field(min_length=1, description="The file, relative to the project root.")]
    dest: Annotated[
        str, Field(min_length=1, description="Absolute path in the container (ending in '/': into that folder).")
    ]

    @model_validator(mode="after")
    def _check(self) -> LocalFile:
        _check_local_src(self.src)
        _check_dest(self.dest)
        return self


class LocalDir(StrictModel):
    """A project folder put into the image (`Image.add_local_dir`)."""

    src: Annotated[str, Field(min_length=1, description="The folder, relative to the project root.")]
    dest: Annotated[str, Field(min_length=1, description="Absolute path of the folder in the container.")]
    ignore: Annotated[
        StrTuple, Field(description='Patterns of files to leave out, dockerignore style, e.g. ["*.pyc", "**/.venv"].')
    ] = ()

    @model_validator(mode="after")
    def _check(self) -> LocalDir:
        _check_local_src(self.src)
        _check_dest(self.dest)
        for index, pattern in enumerate(self.ignore):
            if not pattern.strip():
                raise fail("an empty ignore pattern matches nothing", hint="remove it", at=("ignore", index))
        return self


class BuildFunction(StrictModel):
    """A project function run once while the image builds (`Image.run_function`): what it writes
    to the file system becomes a layer (pinned weights downloaded, kernels compiled)."""

    handler: Annotated[
        ImportPath,
        Field(description='Import path of a function taking no arguments: "package.module:attr".'),
    ]
    gpu: Annotated[Gpu | None, Field(description='GPU of the build container, e.g. "L4" (to compile kernels).')] = None
    secrets: BuildSecrets = ()
    timeout: Annotated[
        Annotated[int, DurationSeconds(1, MAX_BUILD_TIMEOUT)] | None,
        Field(description='Longest the build step may run, e.g. "30m" (max "24h"). Default: Modal\'s 1 h.'),
    ] = None
    cpu: Annotated[Cpu | None, Field(description="CPU cores of the build container (fractions allowed).")] = None
    memory: Annotated[MemoryMiB | None, Field(description='Memory of the build container: MiB, or "16GiB".')] = None
    env: Annotated[
        dict[EnvName, str],
        Field(
            description="Environment variables the build function sees (NAME: value), text only; never secret values."
        ),
    ] = {}
    volumes: Annotated[
        dict[MountPath, str],
        Field(description="Mount path -> key of `volumes`, mounted while the build function runs."),
    ] = {}
    models: Annotated[
        TupleOf[str],
        Field(
            description="Keys of `models` the build function reads: each is mounted from its cache volume and its path set in MDEPLOY_MODEL_<KEY>, as for a function."
        ),
    ] = ()

    @model_validator(mode="after")
    def _check_mounts(self) -> BuildFunction:
        check_one_path_per_volume(self.volumes)
        return self


class ImageStepItem(StrictModel):
    """One build step: exactly one of the step keys; a `pip` step may carry its options beside it."""

    apt: Annotated[StrTuple | None, Field(description="Debian packages to apt-get install.")] = None
    pip: Annotated[StrTuple | None, Field(description='Python requirement specifiers, e.g. "vllm==0.11.0".')] = None
    env: Annotated[
        dict[EnvName, str] | None,
        Field(description="Environment variables (NAME: value), text only; never secret values."),
    ] = None
    run: Annotated[StrTuple | None, Field(description="Shell commands (`run_commands`).")] = None
    workdir: Annotated[str | None, Field(description="Working directory for later steps and the container.")] = None
    add_local_file: Annotated[
        LocalFile | None, Field(description="A project file into the image: {src, dest} (`add_local_file`).")
    ] = None
    add_local_dir: Annotated[
        LocalDir | None, Field(description="A project folder into the image: {src, dest, ignore} (`add_local_dir`).")
    ] = None
    run_function: Annotated[
        BuildFunction | None,
        Field(
            description="A project function run while the image builds: {handler, gpu, cpu, memory, secrets, env, volumes, models, timeout}."
        ),
    ] = None
    models: Annotated[
        TupleOf[str] | None,
        Field(
            description="Keys of hub `models` to fetch into the image at their pinned revisions (baked in): functions on this image that list them read them from the image, not from a volume.",
            min_length=1,
        ),
    ] = None
    installer: Installer = None
    index_url: IndexUrl = None
    extra_index_url: ExtraIndexUrl = None
    find_links: FindLinks = None
    pre: Pre = None

    def key(self) -> str:
        """The step key this item sets (the validator guarantees exactly one)."""
        return next(k for k in STEP_KEYS if getattr(self, k) is not None)

    @model_validator(mode="after")
    def _check(self) -> ImageStepItem:
        present = [k for k in STEP_KEYS if getattr(self, k) is not None]
        if not present:
            raise fail(
                "a step names no build step",
                hint=f"write one of {', '.join(STEP_KEYS)}, e.g. '- pip: [\"numpy==2.1.0\"]'",
            )
        if len(present) > 1:
            raise fail(
                f"one step sets {' and '.join(present)}: each item of `steps` is one build step",
                hint=f"split it into {len(present)} items, in the order they should run",
                at=(present[1],),
            )
        options = [k for k in PIP_OPTIONS if getattr(self, k) is not None]
        if options and present[0] != "pip":
            raise fail(
                f"`{options[0]}` is an option of a `pip` step, not of `{present[0]}`",
                hint="write it in the item of the `pip` step it applies to",
                at=(options[0],),
            )
        if self.pip is not None:
            if not self.pip:
                raise fail("an empty `pip` step installs nothing", hint="list packages or remove the step", at=("pip",))
            pip_problems(self.pip, ("pip",))
        for key in ("apt", "run"):
            if getattr(self, key) == ():
                raise fail(f"an empty `{key}` step does nothing", hint="list something or remove the step", at=(key,))
        if self.env == {}:
            raise fail("an empty `env` step does nothing", hint="set a variable or remove the step", at=("env",))
        if self.workdir is not None:
            check_workdir(self.workdir, ("workdir",))
        return self
