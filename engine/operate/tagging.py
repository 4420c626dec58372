"""Deployment tags that say what was deployed: `<git commit>-<content hash>`.

`modal deploy --tag` takes up to 50 of `[A-Za-z0-9._-]`; mdeploy's default tag is

    1a2b3c4d5e6f-0f9e8d7c6b5a          commit (12 hex) - content hash (12 hex)
    1a2b3c4d5e6f-dirty-0f9e8d7c6b5a    the repository had uncommitted changes
    nogit-0f9e8d7c6b5a                 not deployed from a git checkout

The content hash is of the Blueprint as the container receives it, minus `source` (the path the
manifest was named by, which changes nothing deployed): the same hash means the same app,
whatever the YAML looks like. `history` decodes it, and `drift` uses it to tell whether the
deployed commit still plans to exactly what was deployed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from engine.blueprint.codec import to_json
from engine.blueprint.model import Blueprint

HASH_LENGTH = 12
COMMIT_LENGTH = 12
NO_GIT = "nogit"
MODAL_TAG_LIMIT = 50  # modal/runner.py: is_valid_tag(tag, max_length=50)
_TAG = re.compile(r"^(?P<commit>[0-9a-f]{12}|nogit)(?P<dirty>-dirty)?-(?P<hash>[0-9a-f]{12})$")


@dataclass(frozen=True)
class DeployTag:
    commit: str | None  # 12 hex digits; None when not deployed from git
    dirty: bool
    content_hash: str

    def __str__(self) -> str:
        return f"{self.commit or NO_GIT}{'-dirty' if self.dirty else ''}-{self.content_hash}"


def content_hash(blueprint: Blueprint) -> str:
    text = to_json(dataclasses.replace(blueprint, source=""), indent=None)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def git_state(anchor: Path) -> tuple[str, bool] | None:
    """(commit, dirty) of the git checkout holding `anchor`; None outside git (or without git)."""
    folder = anchor.resolve().parent if anchor.is_file() else anchor.resolve()
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", f"--short={COMMIT_LENGTH}", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        if head.returncode != 0:
            return None
        status = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return head.stdout.strip()[:COMMIT_LENGTH], bool(status.stdout.strip())


def default_tag(blueprint: Blueprint, manifest: Path) -> DeployTag:
    state = git_state(manifest)
    commit, dirty = state if state else (None, False)
    return DeployTag(commit=commit, dirty=dirty, content_hash=content_hash(blueprint))


_MODAL_TAG = re.compile(rf"[A-Za-z0-9._-]{{1,{MODAL_TAG_LIMIT}}}")


def tag_problem(tag: str) -> str | None:
    """Why Modal would refuse `tag` as a deployment tag (modal/runner.py checks it only once the
    app is built and being deployed), or None when it takes it."""
    if _MODAL_TAG.fullmatch(tag):
        return None
    if not tag:
        return "--tag '': give a tag, or leave --tag out for the default <git commit>-<content hash>"
    if len(tag) > MODAL_TAG_LIMIT:
        return f"--tag {tag!r} has {len(tag)} characters: Modal allows at most {MODAL_TAG_LIMIT}"
    bad = sorted({c for c in tag if not _MODAL_TAG.fullmatch(c)})
    return (
        f"--tag {tag!r}: Modal allows only letters, digits, '.', '_' and '-' in a deployment tag, "
        f"not {', '.join(repr(c) for c in bad)}"
    )


def decode_tag(tag: str | None) -> DeployTag | None:
    """The commit and hash of an mdeploy tag; None for any other tag (or none)."""
    match = _TAG.match(tag or "")
    if not match:
        return None
    commit = match["commit"]
    return DeployTag(
        commit=None if commit == NO_GIT else commit, dirty=bool(match["dirty"]), content_hash=match["hash"]
    )
