"""The checks that read the project's files, reported at the manifest key they are about.

Run wherever a manifest file is planned for use (`plan_file`: validate, plan, deploy, diff of the
working tree, serve, run), never on data alone and never on a manifest read back from git (its
files are not the working tree's). What they read:
- `functions.*.handler` and `services.*.app`: the module, parsed (see `handlers.py`; a `kind: cls`
  function's class and its methods: `classes.py`);
- `images.*.steps[*]`: a `run_function` handler (called with no arguments), and the local
  paths of `add_local_file` / `add_local_dir` (there, of that kind, inside the project);
- `images.*.python_sources`: packages the deploy ships with `add_local_python_source`, which must
  be the project's or installed here, and never the standard library (a copy of `json` would sit in
  front of the image's own);
- `services.*.model.path` (LLM services on the engine's image): an absolute path must lie in a
  mounted volume or bucket; one that exists on this machine is a local run's folder and passes.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from engine.manifest.errors import Problem
from engine.manifest.translate import Locator, dotted
from engine.project.classes import class_mistakes
from engine.project.handlers import HandlerChecker, Mistake, Use
from engine.project.modules import ProjectModules, outside_project
from engine.project.root import project_root, shown, source_folders


def project_problems(loaded: Any, server_mounts: Mapping[str, Iterable[str]] | None = None) -> list[Problem]:
    """Problems of the validated manifest `loaded` (a LoadedManifest) against its project's files.

    `server_mounts`: the mount paths of each planned LLM service (engine caches included), by
    service key; without them the model path rule is skipped.
    """
    root = project_root(loaded.source)
    checker = HandlerChecker(ProjectModules(source_folders(root)), root, shown(root))
    locator = Locator(loaded.merged)
    manifest = loaded.manifest
    problems: list[Problem] = []

    def report(path: tuple[str | int, ...], mistake: Any) -> None:
        if mistake is not None:
            problems.append(Problem(locator.at_value(path), dotted(path), mistake.message, mistake.hint))

    for key, svc in manifest.services.items():
        if svc.kind == "web":
            use = Use("endpoint", svc.method or "GET") if svc.interface == "fastapi_endpoint" else Use(svc.interface)
            report(("services", key, "app"), checker.check(svc.app, use))
        elif svc.kind == "llm" and server_mounts is not None and key in server_mounts:
            report(("services", key, "model", "path"), _model_path_mistake(svc, server_mounts[key]))
    for key, fn in manifest.functions.items():
        if fn.kind == "cls":
            for at, mistake in class_mistakes(checker, fn):
                path = ("functions", key, *at)
                where = locator.at_key(path) if at[0] == "batched" else locator.at_value(path)
                problems.append(Problem(where, dotted(path), mistake.message, mistake.hint))
            continue
        report(("functions", key, "handler"), checker.check(fn.handler, _function_use(fn)))
    for key, image in manifest.images.items():
        for index, package in enumerate(image.python_sources):
            report(("images", key, "python_sources", index), _python_source_mistake(checker, package))
        for index, item in enumerate(image.steps or ()):
            step_at: tuple[str | int, ...] = ("images", key, "steps", index)
            if item.run_function is not None:
                report((*step_at, "run_function", "handler"), checker.check(item.run_function.handler, Use("build")))
            for kind in ("add_local_file", "add_local_dir"):
                local = getattr(item, kind)
                if local is not None:
                    report((*step_at, kind, "src"), local_path_mistake(root, local.src, kind == "add_local_dir"))
    return problems


def local_path_mistake(root: Path, src: str, folder: bool) -> Mistake | None:
    """An image's local file or folder must be there, of that kind, and inside the project (a
    symbolic link may point out of it: the deploy would upload what it points at)."""
    path = root / src
    what = "folder" if folder else "file"
    if not path.exists():
        return Mistake(
            f"no {what} {src!r} under the project root {shown(root)}",
            "local paths are relative to the project root (the folder holding pyproject.toml or .git)",
        )
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return Mistake(f"{src!r} leads out of the project (a link to {path.resolve()})", "copy it into the project")
    if folder and not path.is_dir():
        return Mistake(f"{src!r} is a file, not a folder", "use add_local_file for one file")
    if not folder and not path.is_file():
        return Mistake(f"{src!r} is a folder, not a file", "use add_local_dir for a folder")
    return None


def _function_use(fn: Any) -> Use:
    if fn.web is not None:
        return Use("endpoint", fn.web.method or "GET", method_key="web.method")
    if fn.batching is not None:
        return Use("batched")
    if fn.schedule is not None:
        return Use("scheduled")
    return Use("function")


def _python_source_mistake(checker: HandlerChecker, package: str) -> Mistake | None:
    """A package to ship must be the project's, or installed here (a deliberate choice)."""
    if checker.modules.folder_of(package) is not None:
        return None
    outside = outside_project(package)
    if outside is None:
        return Mistake(
            f"no package {package!r} in this project (under {checker.root_shown}) or installed here, so the deploy cannot ship it",
            "name a top-level package of the project",
        )
    if not outside.startswith("the installed"):
        return Mistake(f"{package!r} is {outside}, which every image already has", "remove it")
    return None


def _model_path_mistake(svc: Any, mounts: Iterable[str]) -> Mistake | None:
    if isinstance(svc.model, str):
        return None  # a key of `models`: its path is in its volume, mounted by the planner
    path = svc.model.path
    # Relative paths and folders of this machine are local runs' (`mdeploy serve`); an image of
    # the user's own may hold the weights.
    if path is None or svc.image is not None or not posixpath.isabs(path) or os.path.exists(path):
        return None
    normal = posixpath.normpath(path)
    if any(normal == m or normal.startswith(m.rstrip("/") + "/") for m in map(posixpath.normpath, mounts)):
        return None
    return Mistake(
        f"no volume or bucket is mounted at or above {path}, and {svc.engine}'s image does not hold it",
        "mount the volume that holds the weights, e.g. volumes: {/models: weights}",
    )
