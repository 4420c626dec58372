"""Manifests as they were at a git ref, read with `git show REF:path`, never a checkout.

Only the loader opens manifest files, so this module does not parse anything: it copies the
manifest files a ref holds (bases and overlays, byte for byte) into a temporary directory laid
out like the repository, and the caller plans them from there with the ordinary loader. Paths in
what comes back (a Blueprint's `source`, the locations of a ManifestError) are then rewritten to
name the ref, `HEAD:manifests/chat.yaml`, so nobody sees the temporary directory.

The working tree, the index and HEAD are never touched.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path, PurePosixPath

from engine.errors import UserError
from engine.manifest.errors import ManifestError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".toml")


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UserError("git is not installed; --against needs it to read manifests at a ref") from None


def repository_root(start: Path) -> Path:
    """The top of the git work tree holding `start` (a file or directory; one deleted from the
    working tree is looked up from its nearest existing folder)."""
    where = start.absolute() if start.is_dir() else start.absolute().parent
    while not where.is_dir() and where != where.parent:
        where = where.parent
    result = _git(where.resolve(), "rev-parse", "--show-toplevel")
    if result.returncode != 0:
        raise UserError(f"{start} is not inside a git repository; --against compares with a git ref")
    return Path(result.stdout.decode().strip()).resolve()


def verify_ref(repo: Path, ref: str) -> str:
    """The commit id `ref` names; a UserError when it names none."""
    if ref.startswith("-"):
        raise UserError(f"{ref!r} is not a git ref")
    result = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if result.returncode != 0:
        raise UserError(f"git ref {ref!r} does not name a commit in {repo}")
    return result.stdout.decode().strip()


def repo_relative(repo: Path, path: Path) -> PurePosixPath:
    """`path` relative to the repository root, as git names it."""
    absolute = path.resolve()
    try:
        return PurePosixPath(absolute.relative_to(repo).as_posix())
    except ValueError:
        raise UserError(f"{path} is outside the git repository {repo}") from None


def manifest_files_at(repo: Path, commit: str, directory: PurePosixPath, *, recursive: bool) -> list[PurePosixPath]:
    """Files with a manifest suffix under `directory` at `commit` (repo-relative paths)."""
    args = ["ls-tree", "--name-only", "-z"]
    if recursive:
        args.append("-r")
    spec = "" if str(directory) == "." else f"{directory}/"
    result = _git(repo, *args, commit, "--", spec or ".")
    if result.returncode != 0:
        raise UserError(f"git ls-tree failed: {result.stderr.decode(errors='replace').strip()}")
    names = [PurePosixPath(n) for n in result.stdout.decode().split("\0") if n]
    return sorted(n for n in names if n.suffix in MANIFEST_SUFFIXES)


def read_at(repo: Path, commit: str, path: PurePosixPath) -> bytes | None:
    """The bytes of `path` at `commit`, or None when the file does not exist there."""
    result = _git(repo, "show", f"{commit}:{path}")
    return result.stdout if result.returncode == 0 else None


def materialise(repo: Path, commit: str, files: list[PurePosixPath], destination: Path) -> None:
    """Write each file as it is at `commit` under `destination`, at its repo-relative path."""
    for relative in files:
        content = read_at(repo, commit, relative)
        if content is None:
            continue
        target = destination.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def relabel_manifest_error(error: ManifestError, temporary: Path, label_prefix: str) -> ManifestError:
    """The same problems, with temporary paths shown as `REF:repo/relative/path`."""
    problems = []
    for problem in error.problems:
        location = problem.location
        if location is not None:
            location = dataclasses.replace(location, file=relabel_path(location.file, temporary, label_prefix))
        problems.append(dataclasses.replace(problem, location=location))
    return ManifestError(problems)


def relabel_path(shown: str, temporary: Path, label_prefix: str) -> str:
    path = Path(shown)
    for root in (temporary, temporary.resolve()):
        try:
            return label_prefix + path.relative_to(root).as_posix()
        except ValueError:
            continue
    return shown
