"""Write what `mdeploy init` rendered: never over an existing file, and nothing that does not validate.

Every file is checked to be absent before the first is written, then each is created exclusively
(`open(..., "x")`: a file that appeared meanwhile is not replaced). Then the manifest is planned,
as `mdeploy validate` plans it, for its base and for the overlay's environment; should that fail,
every file written here is removed again and the problems are reported, so what init leaves behind
always validates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import UserError
from engine.init.choices import Choices, filled, overlay_path
from engine.init.render import handler_text, manifest_text, overlay_text, schema_reference
from engine.init.revision import Pinned
from engine.manifest.errors import ManifestError
from engine.project.modules import ProjectModules
from engine.project.root import project_root, source_folders

if TYPE_CHECKING:
    from engine.manifest.models.manifest import Manifest

SCHEMAS_FOLDER = "schemas"


@dataclass(frozen=True)
class NewFile:
    path: Path
    text: str
    what: str  # for the user: "manifest", "prod overlay", "handler module", "package"


def plan_files(c: Choices, pinned: Pinned | None) -> tuple[list[NewFile], list[str]]:
    """The files to write, and notes about the project they land in."""
    manifest = filled(c.path, "path")
    root = project_root(manifest)
    schemas = root / SCHEMAS_FOLDER
    notes = []
    if not (schemas / "manifest.schema.json").is_file():
        notes.append(
            f"the schema comment names {SCHEMAS_FOLDER}/manifest.schema.json, which is not there yet: "
            f"mdeploy schema -o {_shown(schemas / 'manifest.schema.json')} and "
            f"mdeploy schema --overlay -o {_shown(schemas / 'manifest-overlay.schema.json')} write them"
        )

    def reference(overlay: bool) -> str:
        return schema_reference(str(manifest.resolve().parent), str(schemas.resolve()), overlay)

    files = [NewFile(manifest, manifest_text(c, pinned, reference(False)), "manifest")]
    overlay = overlay_path(c)
    if overlay is not None:
        files.append(NewFile(overlay, overlay_text(c, reference(True)), f"{c.overlay} overlay"))
    if c.handler is not None:
        files += _handler_files(c, root)
    return files, notes


def refuse_existing(c: Choices) -> None:
    """One line, and nothing written, when any file to write (or another overlay) is there."""
    from engine.manifest.load import overlay_path as existing_overlay

    manifest = filled(c.path, "path")
    paths = [manifest, overlay_path(c)]
    if c.handler is not None:
        paths += [file.path for file in _handler_files(c, project_root(manifest))]
    for path in paths:
        if path is not None and path.exists():
            raise UserError(
                f"{_shown(path)} exists; mdeploy init never overwrites a file: choose another name (--app, or a path)"
            )
    if c.overlay is not None and (found := existing_overlay(manifest, c.overlay)) is not None:
        raise UserError(
            f"{_shown(found)} exists and is the {c.overlay} overlay already; mdeploy init never overwrites a file"
        )


def write_and_validate(c: Choices, files: list[NewFile], environ: Mapping[str, str]) -> list[tuple[str, Manifest]]:
    """Create the files, validate and plan the manifest for each environment: (environment shown,
    validated manifest) pairs; or, after taking back every file and folder created, a UserError
    with the problems."""
    from engine.planner.plan import load_and_plan

    created: list[Path] = []
    try:
        for file in files:
            created += _make_folders(file.path.parent)
            with file.path.open("x", encoding="utf-8") as handle:
                created.append(file.path)
                handle.write(file.text)
        checked: list[tuple[str, Manifest]] = []
        for env in (None, c.overlay) if c.overlay else (None,):
            loaded, _ = load_and_plan(filled(c.path, "path"), env, environ)
            checked.append((env or "base", loaded.manifest))
        return checked
    except FileExistsError as exc:
        _take_back(created)
        raise UserError(
            f"{_shown(Path(exc.filename))} appeared while init was writing; nothing was left written"
        ) from None
    except ManifestError as exc:
        _take_back(created)
        problems = "; ".join(
            f"{_where(c, p.key)}: {p.message}" + (f" ({p.hint})" if p.hint else "") for p in exc.problems
        )
        raise UserError(f"the manifest would not validate, so nothing was written: {problems}") from None
    except BaseException:
        _take_back(created)
        raise


def _where(c: Choices, key: str) -> str:
    """A problem's place in the user's own words: the flag (or answer) that set the key, else the key."""
    parts = key.split(".")
    flag, value = (
        ("--app", c.app)
        if parts == ["app"]
        else ("--schedule", c.schedule)
        if "schedule" in parts
        else ("--gpu", c.gpu)
        if parts[-1] == "gpu"
        else (None, None)
    )
    return f"{flag} {value!r} ({key})" if flag and value else key


def _make_folders(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; the ones created, outermost first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def _handler_files(c: Choices, root: Path) -> list[NewFile]:
    """The handler's module, and an `__init__.py` for each package folder it creates; none when
    the module is there already (the user's own code: validation then checks the attribute)."""
    module = filled(c.handler, "handler").partition(":")[0]
    if ProjectModules(source_folders(root)).locate(module) is not None:
        return []
    parts = module.split(".")
    files = []
    for depth in range(1, len(parts)):
        package = root.joinpath(*parts[:depth])
        if not (package / "__init__.py").exists():
            files.append(NewFile(package / "__init__.py", "", "package"))
    files.append(NewFile(root.joinpath(*parts[:-1], parts[-1] + ".py"), handler_text(c), "handler module"))
    return files


def _take_back(created: list[Path]) -> None:
    for path in reversed(created):
        try:
            path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)
        except OSError:  # a folder someone else put a file in meanwhile stays
            pass


def _shown(path: Path) -> str:
    from engine.local.state import shown_path

    return shown_path(path)
