"""The two sides of `mdeploy diff`: plan a manifest here and at a git ref, or in two environments.

Both sides are planned by the ordinary planner (`plan_file`), so a diff compares exactly what
`mdeploy plan` and `mdeploy deploy` would use. The git side is planned from a temporary copy of
the manifest files as they are at the ref (git_source.py); its Blueprint's `source` is set to the
same display path as the working tree's, so the two sides differ only where the app does.

A manifest invalid at the ref is no reason to refuse a diff: the change under review may be the
fix. That side counts as absent (everything shows as added) and the diff carries an InvalidAtRef
saying so. The working tree invalid stays an error: that is the user's own, current mistake.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from engine.blueprint.model import Blueprint
from engine.blueprint.origins import NO_ORIGINS, Origins
from engine.errors import UserError
from engine.manifest.errors import ManifestError
from engine.plan.diff import BlueprintDiff, diff_blueprints
from engine.plan.render_diff import InvalidAtRef, LabelledDiff, problem_count
from engine.review import git_source

WORKING_TREE = "working tree"


def display_path(path: Path) -> str:
    """How a manifest is named in a diff: relative to the current directory when it is below it."""
    relative = os.path.relpath(path.resolve(), Path.cwd())
    return Path(path).as_posix() if relative.startswith("..") else Path(relative).as_posix()


Side = tuple[Blueprint, Origins]  # a planned Blueprint and the planner's record of it


def _plan(path: Path, env: str | None, source: str, *, check_project: bool = True) -> Side:
    from engine.planner.plan import plan_file_with_origins

    planned = plan_file_with_origins(path, env, check_project=check_project)
    return dataclasses.replace(planned.blueprint, source=source), planned.origins


def _diff(old: Side | None, new: Side | None) -> BlueprintDiff:
    """diff_blueprints of two sides (either may be absent), values from variables as references."""
    return diff_blueprints(
        old[0] if old else None,
        new[0] if new else None,
        old_origins=old[1] if old else NO_ORIGINS,
        new_origins=new[1] if new else NO_ORIGINS,
    )


class RefTree:
    """Manifest files as they are at one commit, copied into a temporary directory."""

    def __init__(self, repo: Path, ref: str, temporary: Path):
        self.repo = repo
        self.ref = ref
        self.commit = git_source.verify_ref(repo, ref)
        self.root = temporary

    def add_directory(self, directory: PurePosixPath, *, recursive: bool) -> None:
        files = git_source.manifest_files_at(self.repo, self.commit, directory, recursive=recursive)
        git_source.materialise(self.repo, self.commit, files, self.root)

    def copy_of(self, relative: PurePosixPath) -> Path:
        return self.root.joinpath(*relative.parts)

    def plan(self, relative: PurePosixPath, env: str | None, source: str) -> tuple[Side | None, InvalidAtRef | None]:
        """The Blueprint at the ref; (None, None) when the manifest does not exist there, and
        (None, what was wrong) when it does not plan there."""
        copy = self.copy_of(relative)
        if not copy.is_file():
            return None, None
        try:
            # The project's files (handler modules) are the working tree's, not the ref's: checking
            # them against the ref's manifest would say nothing about the ref.
            return _plan(copy, env, source, check_project=False), None
        except ManifestError as error:
            relabelled = git_source.relabel_manifest_error(error, self.root, f"{self.ref}:")
            return None, invalid_at_ref(relabelled)


def invalid_at_ref(error: ManifestError) -> InvalidAtRef:
    """How many problems, and where the first is: never their messages, which may quote values."""
    first = error.problems[0]
    location = str(first.location) if first.location is not None else None
    return InvalidAtRef(problems=len(error.problems), first_location=location, first_key=first.key)


@contextmanager
def ref_tree(anchor: Path, ref: str) -> Iterator[RefTree]:
    repo = git_source.repository_root(anchor)
    with tempfile.TemporaryDirectory(prefix="mdeploy-ref-") as temporary:
        yield RefTree(repo, ref, Path(temporary))


def diff_against_ref(manifest: Path, env: str | None, ref: str) -> LabelledDiff:
    """The manifest in the working tree against the same manifest (and its overlays) at `ref`.
    Absent at `ref`, it shows as added; deleted from the working tree, as removed."""
    source = display_path(manifest)
    # exists(), not is_file(): a folder in its place is the loader's one-line error.
    new = _plan(manifest, env, source) if manifest.exists() else None
    with ref_tree(manifest, ref) as tree:
        relative = git_source.repo_relative(tree.repo, manifest)
        # Overlays live beside their base: the base's directory is all the loader can need.
        tree.add_directory(relative.parent, recursive=False)
        old, invalid = tree.plan(relative, env, source)
    if old is None and new is None:
        if invalid is not None:
            raise UserError(
                f"{source}: deleted from the working tree, and invalid at {ref} "
                f"({problem_count(invalid.problems)}): nothing to compare"
            )
        raise UserError(f"{source}: no such file, in the working tree or at {ref}")
    return LabelledDiff(_diff(old, new), ref, WORKING_TREE, old_invalid=invalid)


def diff_across_environments(manifest: Path, old_env: str, new_env: str | None) -> LabelledDiff:
    """The manifest planned for `old_env` against the same manifest planned for `new_env`."""
    source = display_path(manifest)
    old = _plan(manifest, old_env, source)
    new = _plan(manifest, new_env, source)
    return LabelledDiff(_diff(old, new), old[0].environment, new[0].environment)


def diff_changed_against_ref(paths: list[Path], ref: str) -> list[LabelledDiff]:
    """Every manifest under `paths`, in every environment it has an overlay for (and the base
    alone), whose Blueprint differs between `ref` and the working tree — added and removed
    manifests and environments included. Sorted by manifest, then environment."""
    from engine.manifest.load import discover_manifests, environments_of

    if not paths:
        paths = [Path(".")]
    with ref_tree(paths[0], ref) as tree:
        given = {}
        for path in paths:
            relative = git_source.repo_relative(tree.repo, path)
            # A directory (or one the working tree no longer has): everything below it.
            if path.is_dir() or (not path.exists() and relative.suffix not in git_source.MANIFEST_SUFFIXES):
                tree.add_directory(relative, recursive=True)
            else:
                tree.add_directory(relative.parent, recursive=False)
            given[relative] = path
        for relative, path in given.items():
            if not path.exists() and not tree.copy_of(relative).exists():
                raise UserError(f"{display_path(path)}: no such file or folder, in the working tree or at {ref}")
        now = {git_source.repo_relative(tree.repo, p): p for p in discover_manifests(_existing(paths))}
        copies = [tree.copy_of(r) for r in given if tree.copy_of(r).exists()]
        then = {
            PurePosixPath(p.resolve().relative_to(tree.root.resolve()).as_posix()): p
            for p in discover_manifests(copies)
        }
        diffs = []
        for relative in sorted(set(now) | set(then)):
            source = display_path(tree.repo.joinpath(*relative.parts))
            envs_now = environments_of(now[relative]) if relative in now else []
            envs_then = environments_of(then[relative]) if relative in then else []
            for env in _environments(envs_now, envs_then):
                # No overlay for `env` on one side is not an error: that side plans the base alone.
                new = _plan(now[relative], env, source) if relative in now else None
                old, invalid = tree.plan(relative, env, source) if relative in then else (None, None)
                if old is None and new is None:
                    # Invalid at the ref and gone since: nothing was deployable, nothing is now.
                    continue
                diff = _diff(old, new)
                if diff.changed:
                    diffs.append(LabelledDiff(diff, ref, WORKING_TREE, old_invalid=invalid))
    return diffs


def _existing(paths: list[Path]) -> list[Path]:
    return [p for p in paths if p.exists()]


def _environments(*overlay_envs: list[str]) -> list[str | None]:
    """The base alone (None: the planner's default environment), then each overlay's environment."""
    return [None, *sorted(set().union(*overlay_envs))]
