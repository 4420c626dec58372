"""The direction of dependencies between engine's packages, read from the imports themselves.

Every `import engine.X` / `from engine.X import ...` in engine/ (at module level or inside a
function: a lazy import is still a dependency) is checked against the table below. A new edge
is a design decision: add it here, with its reason, or move the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"

# package -> the packages of ours it may import (errors.py is everyone's).
ALLOWED: dict[str, set[str]] = {
    "manifest": set(),  # loading and the schema models know nothing of ours
    "project": {"manifest"},  # the project's files, read beside a loaded manifest
    "engines": {"blueprint"},  # each engine builds Blueprint values (images, caches)
    "blueprint": set(),  # the contract: dataclasses, codec, origins record
    "planner": {"blueprint", "manifest", "engines", "project"},  # Manifest -> Blueprint
    "runtime": set(),  # runs in the container: stdlib only
    "modal_backend": {"blueprint", "runtime"},  # Blueprint -> Modal objects
    "plan": {"blueprint"},  # renderers: a Blueprint (and its origins) in, text out
    "review": {"blueprint", "planner", "manifest", "plan"},  # a manifest at a git ref, planned and compared
    "eject": {"blueprint", "engines"},
    "preflight": {"blueprint"},
    # serves (an engine builds the argv from the fields), asks the model (bench), reads model folders
    "local": {"blueprint", "planner", "engines", "project", "runtime", "bench", "preflight"},
    "bench": set(),
    "operate": {"blueprint", "engines", "manifest", "plan", "review"},  # drift plans the deployed commit
    "init": {"manifest", "blueprint", "planner", "project", "local"},  # writes a manifest, validates it by planning
    "cli": {"*"},  # the command line composes everything
    "entry": {"modal_backend"},
    "__main__": {"cli"},
    "__init__": set(),
    "errors": set(),  # the one error type of the user's mistakes, below everything
    "gpus": set(),  # the GPU types Modal serves, below everything
}
# Single modules with an edge their package does not have, and why.
EXCEPTIONS: dict[str, set[str]] = {
    # Plans the manifest on the deploying machine (never in a container): reports a ManifestError
    # and puts the project's import paths first, as `mdeploy plan` does.
    "modal_backend/deploy_side.py": {"manifest", "planner", "project"},
    # Validate's offline build: Modal's complaints located at the manifest key the planner's
    # origins record names.
    "modal_backend/modal_problems.py": {"planner"},
}
SHARED = {"errors", "gpus", "__init__"}  # user mistakes; the GPU types Modal serves


def _package(path: Path) -> str:
    parts = path.relative_to(ENGINE).with_suffix("").parts
    return parts[0]


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}:{node.lineno}: relative import; engine imports absolutely")
        for name in names:
            if name == "engine" or name.startswith("engine."):
                parts = name.split(".")
                found.add((parts[1] if len(parts) > 1 else "__init__", node.lineno))
    return found


def _violations() -> list[str]:
    found = []
    for path in sorted(ENGINE.rglob("*.py")):
        package = _package(path)
        allowed = ALLOWED.get(package)
        if allowed is None:
            found.append(f"{path.relative_to(ENGINE)}: package {package!r} is not in the table")
            continue
        extra = EXCEPTIONS.get(path.relative_to(ENGINE).as_posix(), set())
        for target, line in sorted(_imported_packages(path)):
            if target == package or target in SHARED or "*" in allowed:
                continue
            if target not in allowed | extra:
                found.append(f"engine/{path.relative_to(ENGINE)}:{line}: {package} imports {target}")
    return found


def test_imports_follow_the_direction_of_dependencies():
    assert _violations() == []


def test_nothing_but_the_command_line_entry_imports_cli():
    users = {
        path.relative_to(ENGINE).as_posix()
        for path in ENGINE.rglob("*.py")
        if _package(path) not in ("cli", "__main__") and any(t == "cli" for t, _ in _imported_packages(path))
    }
    assert users == set()


def test_the_check_sees_a_wrong_import(tmp_path, monkeypatch):
    """Guard: an import against the direction is reported."""
    fake = tmp_path / "engine"
    (fake / "manifest").mkdir(parents=True)
    (fake / "manifest" / "bad.py").write_text("def f():\n    from engine.cli.main import main\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["ENGINE"]), "ENGINE", fake)
    assert _violations() == ["engine/manifest/bad.py:2: manifest imports cli"]


def test_every_exception_is_still_needed():
    for module, targets in EXCEPTIONS.items():
        path = ENGINE / module
        used = {t for t, _ in _imported_packages(path)}
        assert targets <= used, f"{module} no longer imports {sorted(targets - used)}: drop the exception"
