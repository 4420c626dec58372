"""The repository stands alone: its README, docs, manifests and templates name only files that
exist in it, every relative link resolves inside it (anchors included), and nothing points at a
workspace outside a clone (`../shared`, an absolute path of the machine it was written on)."""

from __future__ import annotations

import importlib
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.doc_commands import REPO, anchors, page_name, pages

# Text that points outside a clone of the repository.
OUTSIDE = re.compile(r"\.\./shared|(?<![\w.])/work/|/root/\.pyenv|\b(?:DESIGN|MODAL-NOTES|STYLE)\.md\b|team workspace")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    )
    found = []
    for name in listed.stdout.splitlines():
        path = REPO / name
        top = name.split("/", 1)[0]
        if not path.is_file() or top not in {
            "README.md",
            "docs",
            "manifests",
            "templates",
            "schemas",
            "workloads",
            "pyproject.toml",
            ".ci",
        }:
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # an image
        found.append(path)
    return found


def test_nothing_points_outside_the_repository():
    files = _tracked_text_files()
    assert REPO / "README.md" in files and any(p.parent.name == "manifests" for p in files)
    offending = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offending == []


# Notes of the workspace a change was written in: no file of the repository may point at them.
WORKSPACE_NOTES = re.compile(r"\.\./shared|\b(?:DESIGN|MODAL-NOTES|STYLE)\.md\b|team workspace")


def test_no_tracked_file_points_at_the_workspace_notes():
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    )
    offending = []
    for name in listed.stdout.splitlines():
        path = REPO / name
        if path == Path(__file__) or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offending += [
            f"{name}:{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1) if WORKSPACE_NOTES.search(line)
        ]
    assert offending == []


def test_the_outside_pattern_catches_what_it_should():
    for text in ("see ../shared/DESIGN.md", "/work/venvs/x/bin/python", "MODAL-NOTES.md", "in the team workspace"):
        assert OUTSIDE.search(text), text
    for text in ("docs/architecture.md", "engine/manifest/load.py", "https://modal.com/docs/work/x"):
        assert not OUTSIDE.search(text), text


def _links(text: str) -> list[str]:
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return re.findall(r"\]\(([^)\s]+)\)", text)


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_every_relative_link_resolves_inside_the_repository(page):
    for link in _links(page.read_text()):
        if re.match(r"^[a-z]+:", link):
            continue  # https:, mailto:
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.is_relative_to(REPO), f"{page_name(page)}: {link} leaves the repository"
        assert path.exists(), f"{page_name(page)}: {link} does not exist"
        if anchor and path.suffix == ".md":
            assert anchor in anchors(path.read_text()), f"{page_name(page)}: {link}: no such heading"


@pytest.mark.parametrize("page", pages(), ids=page_name)
def test_files_and_modules_a_page_names_exist(page):
    """A page that names a path or a module that is gone tells an untruth."""
    text = page.read_text()
    paths = set(
        re.findall(r"`((?:engine|tests|benchmarks|schemas|manifests|templates|docs|workloads|scripts)/[\w./-]+)`", text)
    )
    missing = sorted(p for p in paths if "*" not in p and not (REPO / p.rstrip("/")).exists())
    assert missing == []
    for dotted in set(re.findall(r"`(engine(?:\.\w+)+)(?:\([^`]*\))?`", text)):
        module, _, attr = dotted.rpartition(".")
        try:
            importlib.import_module(dotted)
        except ModuleNotFoundError:
            assert hasattr(importlib.import_module(module), attr), dotted


def test_the_readme_names_repository_paths():
    assert re.search(r"`manifests/[\w.-]+`", (REPO / "README.md").read_text())
