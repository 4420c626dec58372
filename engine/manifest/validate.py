"""Validation: merged manifest data in, a `Manifest` out, or one `ManifestError` with every problem.

Pydantic checks shapes and per-model rules; the cross-manifest rules (references, identifiers)
and the secret scan run over the same data even when pydantic fails, so one run reports all.
Every problem is located through the merged spans (see `translate.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping

from pydantic import ValidationError

from engine.manifest.errors import ManifestError, Problem
from engine.manifest.interpolate import hide_variable_values
from engine.manifest.models.manifest import Manifest, check_manifest_rules
from engine.manifest.models.secrets_scan import redact, scan_for_secrets
from engine.manifest.translate import Locator, problem_from_error, problem_from_finding


@dataclass(frozen=True)
class LoadedManifest:
    """A validated manifest with what produced it: the merged data (values and positions), the
    environment it was loaded for (None: the base alone) and the manifest path as given."""

    manifest: Manifest
    merged: Any
    environment: str | None
    source: str


@dataclass(frozen=True)
class _Unlocated:
    """Stands in for a loader `Merged` when validating plain data (no positions)."""

    data: Any
    spans: dict
    files: tuple = ()


def collect_problems(merged: Any) -> tuple[Manifest | None, list[Problem]]:
    """Validate `merged` (anything with `.data` and `.spans`); the manifest (None if invalid) and
    every problem, deduplicated, in the order found."""
    data = merged.data
    locator = Locator(merged)
    problems: list[Problem] = []
    manifest = None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems.extend(problem_from_error(e, data, locator, Manifest) for e in exc.errors(include_url=False))
    findings = [*check_manifest_rules(data), *scan_for_secrets(data)]
    problems.extend(problem_from_finding(f, locator) for f in findings)
    # A rule may quote the value it rejects: a value from a variable is shown as its reference,
    # and a token must not reach the terminal or CI logs.
    problems = [hide_values(p, merged) for p in problems]
    unique = list(dict.fromkeys(problems))
    return (manifest if not unique else None), unique


def hide_values(problem: Problem, merged: Any) -> Problem:
    """`problem` with values from variables shown as their references and token shapes redacted."""
    interpolated = getattr(merged, "interpolated", None) or {}

    def safe(text: str | None) -> str | None:
        return redact(hide_variable_values(text, merged.data, interpolated))

    return replace(problem, message=safe(problem.message) or "", hint=safe(problem.hint))


def validate_merged(merged: Any) -> Manifest:
    """The validated manifest; raises ManifestError with every problem, each located."""
    manifest, problems = collect_problems(merged)
    if problems:
        raise ManifestError(problems)
    assert manifest is not None
    return manifest


def validate_data(data: Any) -> Manifest:
    """Validate plain data (no positions): for tests and for callers that built a dict."""
    return validate_merged(_Unlocated(data, {}))


def load_manifest(path: str | Path, env: str | None, environ: Mapping[str, str] | None = None) -> LoadedManifest:
    """Read the manifest at `path` and its overlay for `env` (None: base only), merge, validate."""
    from engine.manifest.load import load_merged

    merged = load_merged(Path(path), env, environ)
    manifest = validate_merged(merged)
    return LoadedManifest(manifest=manifest, merged=merged, environment=env, source=Path(path).as_posix())
