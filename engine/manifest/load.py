"""The only code that opens manifest files: read a base and its overlay, interpolate, merge.

A manifest `manifests/chat.yaml` may have one overlay per Modal environment beside it:
`manifests/chat.prod.yaml` (or `.yml`, `.toml`; a TOML base may take a YAML overlay and the
other way round). The environment is `--env`, else MODAL_ENVIRONMENT; no overlay for it is fine.

Display paths are the path as the user gave it (relative stays relative), in posix style.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath

from engine.errors import UserError
from engine.manifest.errors import Location, ManifestError, Problem
from engine.manifest.interpolate import interpolate_layer
from engine.manifest.overlay import Merged, merge_layers
from engine.manifest.source import MAX_FILE_BYTES, Layer, located
from engine.manifest.toml_reader import parse_toml
from engine.manifest.yaml_reader import parse_yaml

MANIFEST_SUFFIXES = (".yaml", ".yml", ".toml")
# Modal's rule for environment names (modal/_utils/name_utils.py, periods allowed for old ones).
_ENVIRONMENT_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}")
_BOMS = {
    b"\xef\xbb\xbf": "a UTF-8 byte order mark (BOM)",
    b"\xff\xfe": "a UTF-16 byte order mark (the file is UTF-16)",
    b"\xfe\xff": "a UTF-16 byte order mark (the file is UTF-16)",
}


class FileProblem(UserError):
    """A manifest file that cannot be read as one (missing, unreadable, not a regular file, two
    overlays for one environment). Other commands print it as one `error:` line; `mdeploy
    validate` reports it as a problem of `file` and goes on with the other files."""

    def __init__(self, file: str, detail: str, message: str | None = None):
        super().__init__(message or f"{file}: {detail}")
        self.file, self.detail = file, detail

    def problem(self) -> Problem:
        return Problem(Location(self.file, 1, 1), "", self.detail)


def display_path(path: str | os.PathLike[str]) -> str:
    return PurePath(path).as_posix()


def resolve_environment(cli_env: str | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The environment to load: the `--env` flag, else MODAL_ENVIRONMENT, else None."""
    if cli_env:
        return cli_env
    environ = os.environ if environ is None else environ
    return environ.get("MODAL_ENVIRONMENT") or None


def _decode(raw: bytes, file: str) -> str:
    for bom, what in _BOMS.items():
        if raw.startswith(bom):
            raise ManifestError(
                located(file, 1, 1, "", f"the file starts with {what}", "save it as UTF-8 without a BOM")
            )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        line = raw.count(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise ManifestError(
            located(
                file, line, col, "", f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})", "save it as UTF-8"
            )
        ) from None


def read_layer(path: str | os.PathLike[str], *, overlay: bool = False) -> Layer:
    """Read and parse one manifest file (base or overlay) into a Layer, without interpolation."""
    file = display_path(path)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        if p.is_dir():  # `mdeploy plan manifests/`: only validate takes a folder
            import shlex

            raise UserError(
                f"{file} is a folder: name one manifest in it (`mdeploy validate {shlex.quote(file)}` checks them all)"
            )
        if suffix == ".json":  # what `plan --format json` writes: a plan already made
            raise UserError(
                f"{file}: not a manifest file (expected .yaml, .yml or .toml); a Blueprint's .json is read "
                "by serve, run and bench, and the other commands take the manifest it was planned from"
            )
        raise UserError(f"{file}: not a manifest file (expected .yaml, .yml or .toml)")
    if not p.exists():
        raise FileProblem(file, "no such file")
    if not p.is_file():  # a folder, a FIFO or a device: never block reading one
        raise FileProblem(file, "not a regular file")
    try:
        with p.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise FileProblem(file, f"cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ManifestError(
            located(
                file,
                1,
                1,
                "",
                "the file is larger than 1 MiB",
                "a manifest this big is a mistake; split it into several apps",
            )
        )
    text = _decode(raw, file)
    return parse_toml(text, file) if suffix == ".toml" else parse_yaml(text, file, overlay=overlay)


def check_environment_name(env: str) -> None:
    """A UserError unless `env` is a name Modal allows for an environment."""
    if not _ENVIRONMENT_NAME.fullmatch(env):
        raise UserError(
            f"{env!r} is not a valid Modal environment name "
            "(letters, digits, '-', '_' and '.', starting with a letter or digit)"
        )


def overlay_path(base: str | os.PathLike[str], env: str | None) -> Path | None:
    """The overlay of `base` for `env` (`NAME.ENV.yaml|yml|toml` beside it), or None if there is none."""
    if not env:
        return None
    check_environment_name(env)
    base = Path(base)
    stem = base.name[: -len(base.suffix)] if base.suffix else base.name
    found = [base.with_name(f"{stem}.{env}{ext}") for ext in MANIFEST_SUFFIXES]
    found = [p for p in found if p.is_file()]
    if len(found) > 1:
        names = " and ".join(display_path(p) for p in found)
        detail = f"two overlays for environment {env!r}: {names}"
        raise FileProblem(display_path(found[-1]), f"{detail} (keep one)", f"{detail}; keep one")
    return found[0] if found else None


def load_merged(path: str | os.PathLike[str], env: str | None, environ: Mapping[str, str] | None = None) -> Merged:
    """Read `path` and its overlay for `env`, interpolate each with `environ`, and merge them.

    Problems in the base and the overlay are reported together.
    """
    environ = os.environ if environ is None else environ
    files = [Path(path)]
    overlay = overlay_path(path, env)
    if overlay is not None:
        files.append(overlay)
    layers: list[Layer] = []
    problems: list[Problem] = []
    for index, file in enumerate(files):
        try:
            layers.append(interpolate_layer(read_layer(file, overlay=index > 0), environ))
        except ManifestError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ManifestError(problems)
    return merge_layers(layers)


def overlay_target(file: str | os.PathLike[str]) -> tuple[Path, str] | None:
    """(base manifest, environment) when `file` is an overlay (`X.ENV.ext` beside `X.ext`)."""
    file = Path(file)
    parts = file.name.split(".")
    for cut in range(1, len(parts) - 1):
        stem, env = ".".join(parts[:cut]), ".".join(parts[cut:-1])
        if not _ENVIRONMENT_NAME.fullmatch(env):
            continue
        for ext in MANIFEST_SUFFIXES:
            candidate = file.with_name(stem + ext)
            if candidate != file and candidate.is_file():
                return candidate, env
    return None


def _base_of(file: Path) -> Path | None:
    """The base manifest that `file` is an overlay of, if any."""
    target = overlay_target(file)
    return target[0] if target else None


def discover_manifests(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Base manifests in `paths`: files as given, folders searched recursively (hidden ones skipped).

    Overlays found in folders are left out (they belong to their base); a path that does not
    exist is a UserError.
    """
    found: set[Path] = set()
    for given in paths:
        root = Path(given)
        if not root.exists():
            raise UserError(f"{display_path(given)}: no such file or folder")
        if not root.is_dir():
            found.add(root)
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in names:
                file = Path(folder) / name
                if (
                    not name.startswith(".")
                    and file.suffix.lower() in MANIFEST_SUFFIXES
                    and file.is_file()
                    and _base_of(file) is None
                ):
                    found.add(file)
    return sorted(found, key=lambda p: p.as_posix())


def environments_of(base: str | os.PathLike[str]) -> list[str]:
    """The environments that have an overlay beside `base`, sorted."""
    base = Path(base)
    stem = base.name[: -len(base.suffix)] if base.suffix else base.name
    folder = base.parent
    envs: set[str] = set()
    if not folder.is_dir():
        return []
    for entry in folder.iterdir():
        name = entry.name
        suffix = entry.suffix.lower()
        if suffix not in MANIFEST_SUFFIXES or not name.startswith(stem + ".") or not entry.is_file():
            continue
        env = name[len(stem) + 1 : -len(entry.suffix)]
        if env and _ENVIRONMENT_NAME.fullmatch(env):
            envs.add(env)
    return sorted(envs)
