"""The ordered steps, as the planner writes them, are the layers of the `modal.Image` the backend
builds and of the one the ejected file builds: same order, same arguments (read back offline from
Modal's own image objects: tests/images/layers.py)."""

from __future__ import annotations

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from engine.blueprint.model import ImageStep
from engine.eject.render import render_app
from engine.modal_backend.app import build_app
from engine.modal_backend.deploy_side import local_files_root
from engine.planner.plan import plan_file
from tests.images.layers import layers
from tests.images.recipes import write_manifest
from tests.modal_backend.introspect import load_closure

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ORDERED = """
x:
  python: "3.12"
  steps:
    - run: ["mkdir -p /opt/app"]
    - add_local_file: {src: assets/config.json, dest: /opt/app/config.json}
    - pip: ["numpy==2.1.0"]
      pre: true
      find_links: https://wheels.example.invalid/simple
    - env: {APP_HOME: /opt/app}
    - apt: [curl]
    - pip: ["requests==2.32.3"]
      installer: pip
      index_url: https://pypi.example.invalid/simple
    - run_function: {handler: imgjobs.tasks:fetch, secrets: hub, gpu: L4, timeout: 10m}
    - workdir: /opt/app
    - add_local_dir: {src: assets/prompts, dest: /opt/prompts, ignore: ["*.tmp"]}
"""


@pytest.fixture
def planned(project, monkeypatch):
    monkeypatch.syspath_prepend(str(project))  # the deploy puts the project first (deploy_side.py)
    for name in [m for m in sys.modules if m == "imgjobs" or m.startswith("imgjobs.")]:
        monkeypatch.delitem(sys.modules, name)
    path = write_manifest(project, ORDERED, secrets="hub: {name: hub-token}\n")
    return plan_file(path, None)


def _built_image(blueprint, *, in_container: bool = False):
    name = f"images_entry_{id(blueprint)}_{in_container}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    root = None if in_container else local_files_root(blueprint)  # as engine/entry.py does
    build_app(blueprint, module.__dict__, name, in_container=in_container, project_root=root)
    # The image the function was declared with, as Modal captured it (introspect.py).
    return load_closure(module.__dict__[blueprint.functions[0].symbol])["image"]


def _problem(step: ImageStep, layer: dict, root: Path) -> str | None:
    """Why `layer` is not what `step` asks of Modal (None when it is)."""
    commands = [c for c in layer.get("commands", []) if c != "FROM base"]
    text = " ".join(commands)
    if step.op in ("add_local_file", "add_local_dir"):
        kind = "file" if step.op == "add_local_file" else "dir"
        entry = [f"{kind} {root / step.args[0]} -> {step.args[1]}"]
        where = "copied" if step.copy else "mounted"
        return None if layer.get(where) == entry else f"expected {where} {entry}"
    if step.op == "run_function":
        builder = layer.get("builder")
        if builder is None:
            return "expected a build function"
        module, attr = step.args[0].split(":")
        if (builder["function"].__module__, builder["name"]) != (module, attr):
            return f"builder {builder['function'].__module__}:{builder['name']}"
        expected = ("L4" if step.gpu == ("L4",) else None, ["modal.Secret.from_name('hub-token')"], step.timeout)
        return None if (builder["gpu"], builder["secrets"], builder["timeout"]) == expected else f"builder {builder}"
    if step.op == "add_local_python_source":
        return None if layer.get("mounted") == [f"package {m}" for m in step.args] else "expected local sources"
    wanted = {
        "run_commands": [f"RUN {c}" for c in step.args],
        "env": [f"ENV {k}={v}" for k, v in step.env.items()],
        "apt_install": [f"apt-get install -y {' '.join(step.args)}"],
        "workdir": [f"WORKDIR {a}" for a in step.args],
        "uv_pip_install": ["uv pip install", *step.args],
        "pip_install": ["python -m pip install", *step.args],
    }[step.op]
    if step.pre:
        wanted.append("--prerelease allow" if step.op == "uv_pip_install" else "--pre")
    for flag, value in (("--find-links", step.find_links), ("--index-url", step.index_url)):
        if value:
            wanted.append(f"{flag} {value}")
    missing = [w for w in wanted if w not in text]
    return f"missing {missing} in {commands}" if missing else None


def _mismatches(blueprint, image, root: Path) -> list[str]:
    (spec,) = blueprint.images
    built = layers(image)[1:]  # after the debian_slim base
    if len(built) != len(spec.steps):
        return [f"{len(spec.steps)} steps, {len(built)} layers: {built}"]
    found = []
    for index, (step, layer) in enumerate(zip(spec.steps, built)):
        problem = _problem(step, layer, root)
        if problem:
            found.append(f"step {index} ({step.op}): {problem}")
    return found


def test_the_plan_keeps_the_written_order_and_decides_copies(planned):
    (spec,) = planned.images
    assert [s.op for s in spec.steps] == [
        "run_commands",
        "add_local_file",
        "uv_pip_install",
        "env",
        "apt_install",
        "pip_install",
        "run_function",
        "workdir",
        "add_local_dir",
        "add_local_python_source",
    ]
    by_op = {s.op: s for s in spec.steps}
    # A build step follows the file: Modal needs it copied into a layer. Nothing but local
    # sources follows the folder: it is added when the container starts.
    assert by_op["add_local_file"].copy is True
    assert by_op["add_local_dir"].copy is False
    assert by_op["add_local_dir"].ignore == ("*.tmp",)
    assert by_op["uv_pip_install"].pre is True
    assert by_op["uv_pip_install"].find_links == "https://wheels.example.invalid/simple"
    assert by_op["pip_install"].index_url == "https://pypi.example.invalid/simple"
    assert by_op["run_function"] == ImageStep(
        op="run_function", args=("imgjobs.tasks:fetch",), gpu=("L4",), secrets=("hub",), timeout=600
    )


def test_the_backend_builds_the_layers_in_the_blueprints_order(planned, project):
    assert _mismatches(planned, _built_image(planned), project.resolve()) == []


def test_the_comparison_sees_a_swapped_order(planned, project):
    # Guard: a backend that applied two steps the other way round must be caught.
    import dataclasses

    (spec,) = planned.images
    steps = list(spec.steps)
    steps[0], steps[2] = steps[2], steps[0]
    swapped = dataclasses.replace(planned, images=(dataclasses.replace(spec, steps=tuple(steps)),))
    assert _mismatches(planned, _built_image(swapped), project.resolve()) != []


def test_a_container_rebuilds_the_chain_without_importing_the_build_function(planned, project):
    image = _built_image(planned, in_container=True)
    builder = next(layer["builder"] for layer in layers(image) if "builder" in layer)
    assert builder["function"].__name__ == "fetch" and builder["function"].__module__ == "imgjobs.tasks"
    assert "imgjobs.tasks" not in sys.modules
    deployed = next(layer["builder"] for layer in layers(_built_image(planned)) if "builder" in layer)
    assert deployed["function"] is sys.modules["imgjobs.tasks"].fetch  # the deploy imports the real one


def test_the_ejected_file_builds_the_same_layers(planned, project):
    path = project / "ejected_images_app.py"  # at the project root: PROJECT_ROOT is its folder
    path.write_text(render_app(planned, filename=path.name), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("ejected_images_app", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        ejected = module.x_image
        assert _mismatches(planned, ejected, project.resolve()) == [
            # The ejected file does not ship mdeploy's own package (its functions do not import it).
            "step 9 (add_local_python_source): expected local sources"
        ]
        ejected_sources = layers(ejected)[-1]["mounted"]
        assert ejected_sources == ["package imgjobs"]
        assert layers(ejected)[:-1] == layers(_built_image(planned))[:-1]
    finally:
        sys.modules.pop(spec.name, None)


def test_the_plan_lists_the_steps_in_the_order_they_run(planned):
    from engine.plan.render_plan import render_plan

    text = render_plan(planned)
    steps = text[text.index("  x: debian_slim") :].split("\n\n")[0].splitlines()[1:]
    assert [line.split(None, 1)[1] for line in steps] == [
        "run_commands 'mkdir -p /opt/app'",
        "add_local_file assets/config.json /opt/app/config.json (copied into a layer)",
        "uv_pip_install numpy==2.1.0 (find links https://wheels.example.invalid/simple) (pre-releases allowed)",
        "env APP_HOME=/opt/app",
        "apt_install curl",
        "pip_install requests==2.32.3 (index https://pypi.example.invalid/simple)",
        "run_function imgjobs.tasks:fetch (gpu L4) (secrets hub) (timeout 10m)",
        "workdir /opt/app",
        "add_local_dir assets/prompts /opt/prompts (ignoring '*.tmp') (added when the container starts)",
        "add_local_python_source engine imgjobs",
    ]
