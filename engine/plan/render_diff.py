"""`render_diff(s)`: BlueprintDiffs as text (terminal), markdown (pull requests) or json (tools).

`old_label` / `new_label` name the two sides ("HEAD" and "working tree", or "prod" and "dev").
Several diffs (one per manifest and environment) render one after another, or as one json list.
Values are printed as JSON (strings quoted, lists in brackets), as the Blueprint holds them.
A diff whose old side was invalid at a git ref (so counted as absent) says so in every format.
"""

from __future__ import annotations

import difflib
import json
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.blueprint.codec import to_data
from engine.plan.cost import format_money
from engine.plan.diff import BlueprintDiff, CostChange, FieldChange

FORMATS = ("text", "markdown", "json")
_MARK = {"added": "+", "removed": "-", "changed": "~", "unchanged": "="}


@dataclass(frozen=True)
class InvalidAtRef:
    """The old side's manifest did not plan at the git ref, so the diff counts it as absent.

    Only a count and where the first problem is: a problem's message may quote a value.
    """

    problems: int
    first_location: str | None  # "REF:manifests/chat.yaml:4:3"; None for a problem with no place
    first_key: str  # dotted manifest key; "" when the problem is about no one key


@dataclass(frozen=True)
class LabelledDiff:
    diff: BlueprintDiff
    old_label: str
    new_label: str
    old_invalid: InvalidAtRef | None = None


def problem_count(problems: int) -> str:
    return f"{problems} problem" + ("" if problems == 1 else "s")


def invalid_note(item: LabelledDiff, *, literal: Callable[[str], str] = str) -> str | None:
    """One line for a diff whose old side was invalid: what happened and what it means here.
    `literal` wraps the paths, ref and key (markdown shows them as code)."""
    invalid = item.old_invalid
    if invalid is None:
        return None
    first = [f"first at {literal(invalid.first_location)}"] if invalid.first_location else []
    first += [f"key {literal(invalid.first_key)}"] if invalid.first_key else []
    details = ", ".join([problem_count(invalid.problems), *first])
    return (
        f"{literal(item.diff.source)} was invalid at {literal(item.old_label)} ({details}): everything shows as added"
    )


def render_diff(diff: BlueprintDiff, fmt: str = "text", *, old_label: str = "old", new_label: str = "new") -> str:
    return render_diffs([LabelledDiff(diff, old_label, new_label)], fmt)


def render_diffs(diffs: Sequence[LabelledDiff], fmt: str = "text") -> str:
    if fmt == "json":
        data = [{"old": d.old_label, "new": d.new_label, **to_data(d.diff), **_json_invalid(d)} for d in diffs]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt == "text":
        blocks = [_text(d) for d in diffs]
    elif fmt == "markdown":
        blocks = [_markdown(d) for d in diffs]
    else:
        raise ValueError(f"unknown diff format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if not blocks:
        return "no manifests to compare\n" if fmt == "text" else "_No manifests to compare._\n"
    return "\n".join(blocks)


def _sides(item: LabelledDiff) -> str:
    diff = item.diff
    if diff.old_environment != diff.environment:
        if (item.old_label, item.new_label) == (diff.old_environment, diff.environment):
            return f"{diff.old_environment} -> {diff.environment}"
        return f"{diff.old_environment} ({item.old_label}) -> {diff.environment} ({item.new_label})"
    return f"{diff.environment}: {item.old_label} -> {item.new_label}"


def _title(item: LabelledDiff) -> str:
    return f"{item.diff.app} [{item.diff.source}] {_sides(item)}"


def _status_line(diff: BlueprintDiff) -> str:
    return {
        "unchanged": "no changes",
        "added": "new: only on the new side",
        "removed": "removed: only on the old side",
        "changed": "changed",
    }[diff.status]


def _json_invalid(item: LabelledDiff) -> dict[str, Any]:
    """Only when the old side was invalid, so every other diff's json stays as it was."""
    if item.old_invalid is None:
        return {}
    return {"note": invalid_note(item), "old_invalid": to_data(item.old_invalid)}


# --- text -------------------------------------------------------------------------------------


def _text(item: LabelledDiff) -> str:
    diff = item.diff
    lines = [f"{_MARK[diff.status]} {_title(item)}: {_status_line(diff)}"]
    note = invalid_note(item)
    if note is not None:
        lines.append(f"  ! {note}")
    lines += [f"    {_field(change)}" for change in diff.app_fields]
    for obj in diff.objects:
        lines.append(f"  {_MARK[obj.status]} {obj.kind} {obj.key}")
        lines += [f"      {_field(change)}" for change in obj.fields]
        if obj.cost is not None and obj.cost.changed:
            lines.append(f"      cost: {_cost(obj.cost)}")
    if diff.changed:
        lines.append(f"  total cost: {_cost(diff.cost)}")
    return "\n".join(lines) + "\n"


# --- markdown ---------------------------------------------------------------------------------


def _markdown(item: LabelledDiff) -> str:
    diff = item.diff
    title = f"### `{diff.app}` — `{diff.source}` — {_cell(_sides(item))}"
    lines = [title, "", f"**{_status_line(diff)}**"]
    note = invalid_note(item, literal=_inline_code)
    if note is not None:
        lines += ["", f"> **Note:** {_cell(note)}"]
    if not diff.changed:
        return "\n".join(lines) + "\n"
    rows: list[tuple[str, str, FieldChange | None]] = [("app", "", change) for change in diff.app_fields]
    for obj in diff.objects:
        if not obj.fields:
            rows.append((f"{_MARK[obj.status]} {obj.kind} `{obj.key}`", obj.status, None))
        rows += [(f"{_MARK[obj.status]} {obj.kind} `{obj.key}`", "", change) for change in obj.fields]
    if rows:
        lines += ["", "| object | field | old | new |", "|---|---|---|---|"]
        for name, status, change in rows:
            if change is None:
                lines.append(f"| {name} | _{status}_ | | |")
            else:
                old_cell, new_cell = _markdown_values(change)
                lines.append(f"| {name} | `{change.path}` | {old_cell} | {new_cell} |")
    cost_rows: list[tuple[str, CostChange | None]] = [
        (f"{o.kind} `{o.key}`", o.cost) for o in diff.objects if o.cost is not None and o.cost.changed
    ]
    cost_rows.append(("**total**", diff.cost))
    lines += ["", "| cost per hour | idle | peak |", "|---|---|---|"]
    for name, cost in cost_rows:
        assert cost is not None
        lines.append(f"| {name} | {_idle(cost)} | {_peak(cost)} |")
    return "\n".join(lines) + "\n"


# --- shared -----------------------------------------------------------------------------------


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _field(change: FieldChange) -> str:
    if change.status == "added":
        return f"{change.path}: added {_value(change.new)}"
    if change.status == "removed":
        return f"{change.path}: removed (was {_value(change.old)})"
    hunks = _argv_hunks(change.old, change.new)
    if hunks is not None:
        return f"{change.path}: " + "; ".join(f"{old or '(nothing)'} -> {new or '(nothing)'}" for old, new in hunks)
    return f"{change.path}: {_value(change.old)} -> {_value(change.new)}"


def _argv_hunks(old: Any, new: Any) -> list[tuple[str, str]] | None:
    """For long lists of strings (launch commands, package lists): only the changed runs, as
    shell words, so one flipped flag is one short line rather than two whole commands."""
    if not (_is_words(old) and _is_words(new)) or max(len(old), len(new)) <= _SHORT_LIST:
        return None
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return [
        (shlex.join(old[i1:i2]), shlex.join(new[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


_SHORT_LIST = 4


def _is_words(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _markdown_values(change: FieldChange) -> tuple[str, str]:
    hunks = _argv_hunks(change.old, change.new) if change.status == "changed" else None
    if hunks is not None:
        return (
            "<br>".join(f"`{_cell(old)}`" if old else "—" for old, _ in hunks),
            "<br>".join(f"`{_cell(new)}`" if new else "—" for _, new in hunks),
        )
    return _code(change.old, change.status == "added"), _code(change.new, change.status == "removed")


def _inline_code(text: str) -> str:
    return f"`{text}`"


def _code(value: Any, absent: bool) -> str:
    return "—" if absent else f"`{_cell(_value(value))}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _cost(change: CostChange) -> str:
    return f"idle {_idle(change)}, peak {_peak(change)}"


def _idle(change: CostChange) -> str:
    return _transition(change.old.idle, change.new.idle, False, False)


def _peak(change: CostChange) -> str:
    return _transition(change.old.peak, change.new.peak, change.old.peak_unbounded, change.new.peak_unbounded)


def _transition(old: float | None, new: float | None, old_unbounded: bool, new_unbounded: bool) -> str:
    text = f"{format_money(old, unbounded=old_unbounded)} -> {format_money(new, unbounded=new_unbounded)}"
    if old is not None and new is not None and not (old_unbounded or new_unbounded) and old != new:
        delta = new - old
        sign = "+" if delta > 0 else "-"
        text += f" ({sign}{format_money(abs(delta))})"
    return text
