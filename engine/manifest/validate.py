"""Validation: merged manifest data in, a `Manifest` out, or one `ManifestError` with every error.

Pydantic checks shapes and per-model rules; the rules over the raw data (numbers no setting can
mean, cross-manifest references and identifiers, values Modal or an engine would refuse later,
secret-looking values) run over the same data even when pydantic fails, so one run reports all.
A problem is an error or a warning (`Problem.severity`): errors refuse the manifest, warnings are
returned beside it. Every problem is located through the merged spans (see `translate.py`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from engine.manifest.errors import ManifestError, Problem
from engine.manifest.interpolate import hide_variable_values
from engine.manifest.models.base import Finding
from engine.manifest.models.manifest import Manifest, check_manifest_rules
from engine.manifest.models.numbers import TOO_LARGE, check_numbers
from engine.manifest.models.secrets_scan import redact, scan_for_secrets
from engine.manifest.models.value_rules import check_value_rules
from engine.manifest.overlay import Merged
from engine.manifest.overlay_hints import new_overlay_entries_hints
from engine.manifest.translate import Locator, dotted, problem_from_error, problem_from_finding

# pydantic's upper-bound errors: for a huge number under a field with its own bound ("at most
# 65535"), the field's words are the better ones; for every other error about it, the number rule's.
_BOUND_ERRORS = frozenset({"less_than", "less_than_equal"})


@dataclass(frozen=True)
class LoadedManifest:
    """A validated manifest with what produced it: the merged data (values and positions), the
    environment it was loaded for (None: the base alone), the manifest path as given, and the
    warnings validation found (they do not stop a plan or a deploy; `mdeploy validate` shows them)."""

    manifest: Manifest
    merged: Merged
    environment: str | None
    source: str
    warnings: tuple[Problem, ...] = ()


def _model_problems(
    data: Any, locator: Locator, numbers: list[Finding]
) -> tuple[Manifest | None, list[Problem], set[str]]:
    """Pydantic's verdict, less what it says about a number the number rule refuses, and the
    keys where the field's own bound ("at most 65535") words a huge number better than that rule."""
    huge = {dotted(f.path) for f in numbers if f.message == TOO_LARGE}
    absurd = {dotted(f.path) for f in numbers}
    field_speaks: set[str] = set()
    try:
        return Manifest.model_validate(data), [], field_speaks
    except ValidationError as exc:
        problems = []
        errors = exc.errors(include_url=False)
        for error in errors:
            if _a_literal_branch_beside_a_shape(error, errors):
                continue
            problem = problem_from_error(error, data, locator, Manifest)
            if problem.key in absurd:
                if not (problem.key in huge and error["type"] in _BOUND_ERRORS):
                    continue
                field_speaks.add(problem.key)
            problems.append(problem)
        return None, problems, field_speaks


def _a_literal_branch_beside_a_shape(error: ErrorDetails, errors: list[ErrorDetails]) -> bool:
    """A union of a mapping and a literal (`warmup: false | {path, ...}`) given a mapping with a
    wrong entry fails both branches; the literal's "must be one of: False" says nothing about
    the mapping the user wrote, so only the mapping branch's errors are shown."""
    loc = error["loc"]
    if error["type"] != "literal_error" or not isinstance(error.get("input"), (dict, list)) or not loc:
        return False
    if not str(loc[-1]).startswith("literal["):
        return False
    at = len(loc) - 1
    return any(
        o is not error and len(o["loc"]) > at and o["loc"][:at] == loc[:at] and o["loc"][at] != loc[at] for o in errors
    )


def collect_problems(merged: Merged) -> tuple[Manifest | None, list[Problem]]:
    """Validate `merged` (anything with `.data` and `.spans`); the manifest (None if it has an
    error) and every problem, errors and warnings, deduplicated, in the order found."""
    data = merged.data
    locator = Locator(merged)
    numbers = check_numbers(data)
    manifest, problems, field_speaks = _model_problems(data, locator, numbers)
    numbers = [f for f in numbers if dotted(f.path) not in field_speaks]
    findings = [*numbers, *check_manifest_rules(data), *check_value_rules(data), *scan_for_secrets(data)]
    problems.extend(problem_from_finding(f, locator) for f in findings)
    problems.extend(new_overlay_entries_hints(merged, problems))
    problems.extend(_idle_nulls_of_unknown_keys(merged))
    # A rule may quote the value it rejects: a value from a variable is shown as its reference,
    # and a token must not reach the terminal or CI logs.
    problems = [hide_values(p, merged) for p in problems]
    unique = list(dict.fromkeys(problems))
    has_error = any(p.is_error for p in unique)
    return (None if has_error else manifest), unique


def _idle_nulls_of_unknown_keys(merged: Merged) -> list[Problem]:
    """An overlay's `null` under a key that is nowhere below it deletes nothing; when the key is
    not one the schema has there either (`scalling: null`, `min_container: null`), the user
    meant another key, which stays: an unknown key, as it would be with any other value. A null
    of a real key the base leaves unset is harmless and stays silent."""
    if not merged.idle_nulls:
        return []
    data = copy.deepcopy(merged.data)
    for path in merged.idle_nulls:
        parent: Any = data
        for part in path[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        if isinstance(parent, dict):
            parent[path[-1]] = None
    with_nulls = replace(merged, data=data, spans={**merged.spans, **merged.idle_nulls})
    _, found, _ = _model_problems(data, Locator(with_nulls), [])
    idle = {dotted(path) for path in merged.idle_nulls}
    return [
        replace(p, message=f"{p.message}: its `null` deletes nothing")
        for p in found
        if p.key in idle and p.message.startswith("unknown key")
    ]


def split_problems(problems: list[Problem]) -> tuple[list[Problem], list[Problem]]:
    """(errors, warnings), each in the given order."""
    return [p for p in problems if p.is_error], [p for p in problems if not p.is_error]


def validate_merged_with_warnings(merged: Merged) -> tuple[Manifest, tuple[Problem, ...]]:
    """The validated manifest and its warnings; raises ManifestError with every error, located."""
    manifest, problems = collect_problems(merged)
    errors, warnings = split_problems(problems)
    if errors:
        raise ManifestError(errors)
    assert manifest is not None
    return manifest, tuple(warnings)


def hide_values(problem: Problem, merged: Merged) -> Problem:
    """`problem` with values from variables shown as their references and token shapes redacted."""
    interpolated = merged.interpolated

    def safe(text: str | None) -> str | None:
        return redact(hide_variable_values(text, merged.data, interpolated))

    return replace(problem, message=safe(problem.message) or "", hint=safe(problem.hint))


def validate_merged(merged: Merged) -> Manifest:
    """The validated manifest; raises ManifestError with every error, each located. Warnings do
    not stop it (see `validate_merged_with_warnings`)."""
    return validate_merged_with_warnings(merged)[0]


def validate_data(data: Any) -> Manifest:
    """Validate plain data (no positions): for tests and for callers that built a dict."""
    return validate_merged(Merged(data, spans={}, files=()))  # plain data: no positions


def load_manifest(path: str | Path, env: str | None, environ: Mapping[str, str] | None = None) -> LoadedManifest:
    """Read the manifest at `path` and its overlay for `env` (None: base only), merge, validate."""
    from engine.manifest.load import load_merged

    merged = load_merged(Path(path), env, environ)
    manifest, warnings = validate_merged_with_warnings(merged)
    return LoadedManifest(
        manifest=manifest, merged=merged, environment=env, source=Path(path).as_posix(), warnings=warnings
    )
