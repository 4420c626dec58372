"""`render_plan(blueprint, fmt)`: the plan as text (terminal), markdown (pull requests) or json.

json is exactly `codec.to_json(blueprint)`: the Blueprint itself, what golden tests pin and the
container receives (an env entry from a `${VAR}` is there as the manifest's text; every other
value as planned). text and markdown lay out the sections of plan_view.py, so both always say the
same thing, and show every value that came from a variable as its reference (`origins`, the
planner's record). Deterministic: same Blueprint and record, same bytes.
"""

from __future__ import annotations

from engine.blueprint import codec
from engine.blueprint.model import Blueprint
from engine.blueprint.origins import NO_ORIGINS, Origins
from engine.plan.cost import CostEstimate, estimate_cost
from engine.plan.plan_view import Section, cost_references, cost_section, plan_sections

FORMATS = ("text", "markdown", "json")


def render_plan(
    blueprint: Blueprint, fmt: str = "text", cost: CostEstimate | None = None, origins: Origins = NO_ORIGINS
) -> str:
    if fmt == "json":
        return codec.to_json(blueprint) + "\n"
    cost = cost or estimate_cost(blueprint)
    sections = plan_sections(blueprint, cost, origins)
    if fmt == "text":
        return _text(blueprint, sections, origins)
    if fmt == "markdown":
        return _markdown(blueprint, sections, origins)
    raise ValueError(f"unknown plan format {fmt!r}; choose one of {', '.join(FORMATS)}")


def render_cost(blueprint: Blueprint, cost: CostEstimate, fmt: str = "text", origins: Origins = NO_ORIGINS) -> str:
    """Only the cost table of the plan, laid out as the plan lays it out (`mdeploy cost`)."""
    section = cost_section(cost, cost_references(blueprint, origins))
    if fmt == "text":
        lines = [_header(blueprint, origins), "", section.title, *_text_table(section)]
        return "\n".join(lines + [f"  ({note})" for note in section.notes]) + "\n"
    if fmt == "markdown":
        app = origins.text(("app",), blueprint.app)
        lines = [f"### Cost: `{app}` ({blueprint.environment})", "", *_markdown_table(section)]
        return "\n".join(lines + [line for note in section.notes for line in ("", f"_{_cell(note)}_")]) + "\n"
    raise ValueError(f"unknown cost format {fmt!r}; choose text or markdown")


def _header(blueprint: Blueprint, origins: Origins) -> str:
    line = f"app {origins.text(('app',), blueprint.app)} (environment {blueprint.environment}, from {blueprint.source})"
    return line + (f", tags {_tags(blueprint, origins)}" if blueprint.tags else "")


def _tags(blueprint: Blueprint, origins: Origins) -> str:
    return ", ".join(f"{k}={origins.text(('tags', k), v)}" for k, v in sorted(blueprint.tags.items()))


# --- text -------------------------------------------------------------------------------------


def _text(blueprint: Blueprint, sections: list[Section], origins: Origins) -> str:
    lines = [_header(blueprint, origins)]
    for section in sections:
        lines += ["", section.title]
        lines += _text_table(section) if section.tabular else _text_blocks(section)
        lines += [f"  ({note})" for note in section.notes]
    return "\n".join(lines) + "\n"


def _text_blocks(section: Section) -> list[str]:
    lines = []
    for entry in section.entries:
        lines.append(f"  {entry.name}: {entry.summary}" if entry.summary else f"  {entry.name}")
        width = max((len(label) for label, _ in entry.rows), default=0)
        lines += [f"    {label.ljust(width)}  {value}" for label, value in entry.rows]
    return lines


def _text_table(section: Section) -> list[str]:
    table = [list(section.columns)]
    table += [[e.name, e.summary, *(value for _, value in e.rows)] for e in section.entries]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))] if table else []
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in table]


# --- markdown ---------------------------------------------------------------------------------


def _markdown(blueprint: Blueprint, sections: list[Section], origins: Origins) -> str:
    app = origins.text(("app",), blueprint.app)
    lines = [f"### Plan: `{app}` ({blueprint.environment})", "", f"From `{blueprint.source}`."]
    if blueprint.tags:
        lines[-1] += f" Tags: `{_tags(blueprint, origins)}`."
    for section in sections:
        lines += ["", f"#### {section.title}", ""]
        lines += _markdown_table(section) if section.tabular else _markdown_blocks(section)
        for note in section.notes:
            lines += ["", f"_{_cell(note)}_"]
    return "\n".join(lines) + "\n"


def _markdown_blocks(section: Section) -> list[str]:
    lines = []
    for entry in section.entries:
        summary = f" — {_cell(entry.summary)}" if entry.summary else ""
        if not entry.rows:
            lines.append(f"- `{entry.name}`{summary}")
            continue
        lines += [f"**`{entry.name}`**{summary}", "", "| | |", "|---|---|"]
        lines += [f"| {label} | {_code(value)} |" for label, value in entry.rows]
        lines.append("")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _markdown_table(section: Section) -> list[str]:
    lines = ["| " + " | ".join(section.columns) + " |", "|" + "---|" * len(section.columns)]
    for entry in section.entries:
        cells = [entry.name, entry.summary, *(value for _, value in entry.rows)]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return lines


def _cell(text: str) -> str:
    # A pipe would end the table cell early.
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    """Inline code for values that are commands or identifiers; plain for prose-like values."""
    if "`" in text:
        return _cell(text)
    return f"`{_cell(text)}`"
