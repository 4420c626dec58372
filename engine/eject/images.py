"""Image definitions: one `modal.Image` chain per `ImageSpec`, each step a method call.

Local paths are written from `PROJECT_ROOT` (defined in the file when an image adds local files:
the project root as seen from the file), so the file deploys from any working directory. A
`run_function` step names its function through `build_step`, defined in the file: the deploy
imports the handler (Modal reads its source to run it while building); a container only rebuilds
the chain, with a stand-in, so its image need not hold the handler's package.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.blueprint.model import (
    LOCAL_FILE_OPS,
    PREFETCH_HANDLER,
    Blueprint,
    ImageSpec,
    ImageStep,
    SecretSpec,
    VolumeSpec,
)
from engine.eject.prefetch import BUILD_PREFETCH_NAME
from engine.eject.pysrc import call, py_identifier, py_literal, py_str

MDEPLOY_PACKAGE = "engine"
ROOT_CONSTANT = "PROJECT_ROOT"
BUILD_STEP_HELPER = "build_step"

BUILD_STEP_FUNCTION = f'''def {BUILD_STEP_HELPER}(reference: str):
    """The function of a `run_function` image step, "package.module:attr": imported where the
    deploy runs; in a container (the image is built already) a stand-in of the same name."""
    module, _, name = reference.partition(":")
    if modal.is_local():
        return getattr(importlib.import_module(module), name)

    def stand_in():
        raise RuntimeError(f"{{reference}} runs only while the image builds")

    stand_in.__name__ = stand_in.__qualname__ = name
    stand_in.__module__ = module
    return stand_in'''


def uses_local_files(blueprint: Blueprint) -> bool:
    return any(s.op in LOCAL_FILE_OPS for i in blueprint.images for s in i.steps)


def uses_build_functions(blueprint: Blueprint) -> bool:
    """Some image runs a project function while it builds (the file defines BUILD_STEP_HELPER)."""
    return any(_project_function(s) for i in blueprint.images for s in i.steps)


def uses_build_prefetch(blueprint: Blueprint) -> bool:
    """Some image fetches models while it builds (the file defines BUILD_PREFETCH_NAME)."""
    return any(s.op == "run_function" and s.args[0] == PREFETCH_HANDLER for i in blueprint.images for s in i.steps)


def _project_function(step: ImageStep) -> bool:
    return step.op == "run_function" and step.args[0] != PREFETCH_HANDLER


def root_constant(project_root: str) -> str:
    """`PROJECT_ROOT = ...`: `project_root` is the root's path from the file's folder."""
    here = "pathlib.Path(__file__).resolve().parent"
    if project_root in ("", "."):
        return f"{ROOT_CONSTANT} = {here}  # the project root: local image paths start here"
    return f"{ROOT_CONSTANT} = ({here} / {py_str(project_root)}).resolve()  # the project root"


def image_variable(key: str) -> str:
    return py_identifier(key, suffix="_image")


def render_image(
    spec: ImageSpec,
    secrets: Mapping[str, SecretSpec] | None = None,
    volumes: Mapping[str, VolumeSpec] | None = None,
) -> str:
    """`name_image = (modal.Image.<base>(...) .step(...) ...)` for one image; `secrets` and
    `volumes`: the Blueprint's, by key (a `run_function` step names them)."""
    lines = [_base(spec)]
    if spec.base == "registry" and spec.clear_entrypoint:
        lines.append(".entrypoint([])  # registry images (NVIDIA's) print a banner otherwise")
    lines.extend(_step(step, secrets or {}, volumes or {}) for step in _without_mdeploy_source(spec.steps))
    body = "\n".join("    " + line.replace("\n", "\n    ") for line in lines)
    return f"{image_variable(spec.key)} = (\n{body}\n)"


def _without_mdeploy_source(steps: tuple[ImageStep, ...]) -> list[ImageStep]:
    """The planner ships mdeploy's own `engine` package in every image for entry.py; the ejected
    file does not import it, so it is left out (and the file deploys where mdeploy is gone)."""
    kept = []
    for step in steps:
        if step.op == "add_local_python_source":
            step = ImageStep(op=step.op, args=tuple(a for a in step.args if a != MDEPLOY_PACKAGE))
            if not step.args:
                continue
        kept.append(step)
    return kept


def _base(spec: ImageSpec) -> str:
    if spec.base == "registry":
        kwargs = [("add_python", py_str(spec.python_version))] if spec.python_version else []
        return call("modal.Image.from_registry", [py_str(spec.registry_ref or "")], kwargs)
    if spec.base == "debian_slim":
        kwargs = [("python_version", py_str(spec.python_version))] if spec.python_version else []
        return call("modal.Image.debian_slim", [], kwargs)
    raise ValueError(f"image {spec.key!r}: unknown base {spec.base!r}")


def _step(step: ImageStep, secrets: Mapping[str, SecretSpec], volumes: Mapping[str, VolumeSpec]) -> str:
    args = [py_str(arg) for arg in step.args]
    if step.op == "env":
        return call(".env", [py_literal(step.env)], [])
    if step.op in ("pip_install", "uv_pip_install"):
        kwargs = []
        if step.index_url:
            kwargs.append(("index_url", py_str(step.index_url)))
        if step.extra_index_url:
            kwargs.append(("extra_index_url", py_str(step.extra_index_url)))
        if step.find_links:
            kwargs.append(("find_links", py_str(step.find_links)))
        if step.pre:
            kwargs.append(("pre", "True"))
        return call(f".{step.op}", args, kwargs)
    if step.op in LOCAL_FILE_OPS:
        src, dest = step.args
        local = f"{ROOT_CONSTANT} / {py_str(src)}"
        kwargs = [("copy", "True")] if step.copy else []
        if step.ignore:
            kwargs.append(("ignore", py_literal(list(step.ignore))))
        return call(f".{step.op}", [local, py_str(dest)], kwargs)
    if step.op == "run_function":
        kwargs = []
        if step.gpu:
            kwargs.append(("gpu", py_str(step.gpu[0]) if len(step.gpu) == 1 else py_literal(list(step.gpu))))
        if step.cpu is not None:
            kwargs.append(("cpu", py_literal(step.cpu)))
        if step.memory is not None:
            kwargs.append(("memory", py_literal(step.memory)))
        if step.secrets:
            kwargs.append(("secrets", "[" + ", ".join(secret_call(secrets[k]) for k in step.secrets) + "]"))
        if step.env:
            kwargs.append(("env", py_literal(dict(sorted(step.env.items())))))
        if step.mounts:
            pairs = ", ".join(f"{py_str(m.path)}: {volume_call(volumes[m.source])}" for m in step.mounts)
            kwargs.append(("volumes", "{" + pairs + "}"))
        if step.timeout is not None:
            kwargs.append(("timeout", str(step.timeout)))
        # mdeploy's own prefetch step runs the copy the file defines (prefetch.py), not mdeploy.
        function = BUILD_PREFETCH_NAME if step.args[0] == PREFETCH_HANDLER else f"{BUILD_STEP_HELPER}({args[0]})"
        return call(".run_function", [function], kwargs)
    if step.op in ("apt_install", "run_commands", "add_local_python_source"):
        return call(f".{step.op}", args, [])
    if step.op == "workdir":
        return call(".workdir", args, [])
    raise ValueError(f"image step {step.op!r} has no Modal equivalent in eject")


def secret_call(spec: SecretSpec) -> str:
    """`modal.Secret.from_name(...)` for `spec` (the file's storage section and build steps alike)."""
    kwargs = [("required_keys", py_literal(list(spec.required_keys)))] if spec.required_keys else []
    return call("modal.Secret.from_name", [py_str(spec.name)], kwargs)


def volume_call(spec: VolumeSpec) -> str:
    """`modal.Volume.from_name(...)` for `spec` (the file's storage section and build steps alike)."""
    kwargs = [("create_if_missing", "True")] if spec.create_if_missing else []
    return call("modal.Volume.from_name", [py_str(spec.name)], kwargs)
