"""Image definitions: one `modal.Image` chain per `ImageSpec`, each step a method call."""

from __future__ import annotations

from engine.blueprint.model import ImageSpec, ImageStep
from engine.eject.pysrc import call, py_identifier, py_literal, py_str

MDEPLOY_PACKAGE = "engine"


def image_variable(key: str) -> str:
    return py_identifier(key, suffix="_image")


def render_image(spec: ImageSpec) -> str:
    """`name_image = (modal.Image.<base>(...) .step(...) ...)` for one image."""
    lines = [_base(spec)]
    if spec.base == "registry" and spec.clear_entrypoint:
        lines.append(".entrypoint([])  # registry images (NVIDIA's) print a banner otherwise")
    lines.extend(_step(step) for step in _without_mdeploy_source(spec.steps))
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


def _step(step: ImageStep) -> str:
    args = [py_str(arg) for arg in step.args]
    if step.op == "env":
        return call(".env", [py_literal(step.env)], [])
    if step.op in ("pip_install", "uv_pip_install"):
        kwargs = []
        if step.index_url:
            kwargs.append(("index_url", py_str(step.index_url)))
        if step.extra_index_url:
            kwargs.append(("extra_index_url", py_str(step.extra_index_url)))
        return call(f".{step.op}", args, kwargs)
    if step.op in ("apt_install", "run_commands", "add_local_python_source"):
        return call(f".{step.op}", args, [])
    if step.op == "workdir":
        return call(".workdir", args, [])
    raise ValueError(f"image step {step.op!r} has no Modal equivalent in eject")
