"""The manifest reference (`docs/reference.md`): every key a manifest accepts, with its type,
default and description, rendered as Markdown from the same JSON Schema that `mdeploy schema`
prints, so the reference, the schema and the models cannot disagree.

`mdeploy schema --reference -o docs/reference.md` writes it; `mdeploy schema --reference --check`
fails when the checked-in page is stale (a test runs it). The schema is walked from the root:
each object definition (`Scaling`, `VllmService`, ...) gets one section, listing the dotted keys
it appears under (`services.NAME.scaling`), in the order a reader meets them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

REFERENCE_RELATIVE_PATH = Path("docs") / "reference.md"
REGENERATE = "mdeploy schema --reference -o docs/reference.md"

_HEAD = f"""# Manifest reference

Every key a manifest accepts, with its type, its default and what it does. This page is generated
from the manifest models (the same source as `schemas/manifest.schema.json`): do not edit it by
hand. After changing a model, regenerate it with

    {REGENERATE}

and `mdeploy schema --reference --check` (run by the test suite) fails while it is stale.

`NAME` stands for a key you choose (`services.NAME` is `services.llama`). "required" means the
key has no default; "-" means unset (`null`), which lets the planner decide (see
[plan-and-diff.md](plan-and-diff.md#what-mdeploy-decides-for-you-the-planners-defaults)). Some
rules cannot be said per key (references between objects, GPU names, cron, secret-looking values):
`mdeploy validate` checks them ([validation.md](validation.md), [validation-rules.md](validation-rules.md)).
Files, overlays and `${{VAR}}` variables: [manifests.md](manifests.md).
"""


def render_reference() -> str:
    """The reference page as the checked-in file holds it (Markdown, trailing newline)."""
    from engine.manifest.schema import manifest_json_schema

    schema = manifest_json_schema()
    definitions = schema["$defs"]
    sections: list[tuple[str, dict[str, Any]]] = [("Top level", schema)]
    # definition -> {dotted path it sits at: the definitions (or discriminator values) holding it}
    places: dict[str, dict[str, list[str]]] = {"Top level": {}}
    queue = [("Top level", schema, "")]
    while queue:
        parent, node, prefix = queue.pop(0)
        for key, field in node.get("properties", {}).items():
            chosen_by = _chosen_by(field)
            for ref, suffix in _refs(field):
                path = f"{prefix}{key}{suffix}"
                if ref not in places:
                    places[ref] = {}
                    sections.append((ref, definitions[ref]))
                    queue.append((ref, definitions[ref], path + "."))
                holders = places[ref].setdefault(path, [])
                holder = (
                    f"when `{', '.join(chosen_by[ref])}`"
                    if ref in chosen_by
                    else "in " + ("" if parent == "Top level" else f"[{parent}](#{parent.lower()})")
                )
                if holder != "in " and holder not in holders:
                    holders.append(holder)
    lines = [_HEAD]
    for name, node in sections:
        lines.append(_section(name, node, places[name]))
    return "\n".join(lines).rstrip("\n") + "\n"


def _refs(node: Any, suffix: str = "") -> list[tuple[str, str]]:
    """The definitions a field's value may be, each with the dotted suffix it sits under
    (`.NAME` for a keyed map, `[]` for a list element)."""
    if not isinstance(node, dict):
        return []
    if "$ref" in node:
        return [(node["$ref"].rsplit("/", 1)[1], suffix)]
    found: list[tuple[str, str]] = []
    for alternative in node.get("anyOf", []) + node.get("oneOf", []):
        found += _refs(alternative, suffix)
    if isinstance(node.get("additionalProperties"), dict):
        found += _refs(node["additionalProperties"], suffix + ".NAME")
    if isinstance(node.get("items"), dict):
        found += _refs(node["items"], suffix + "[]")
    return found


def _chosen_by(node: Any, conditions: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """For a field whose alternatives a discriminator picks (`services.NAME` by `kind`, then by
    `engine`): each definition and the `key: value` pairs that select it."""
    found: dict[str, list[str]] = {}
    if not isinstance(node, dict):
        return found
    for child in ("additionalProperties", "items"):
        if isinstance(node.get(child), dict):
            found.update(_chosen_by(node[child], conditions))
    discriminator = node.get("discriminator")
    if not isinstance(discriminator, dict):
        return found
    for value, target in discriminator["mapping"].items():
        condition = (*conditions, f"{discriminator['propertyName']}: {value}")
        if isinstance(target, str):
            found[target.rsplit("/", 1)[1]] = list(condition)
        else:
            found.update(_chosen_by(target, condition))
    return found


def _section(name: str, node: dict[str, Any], places: dict[str, list[str]]) -> str:
    title = "Top level" if name == "Top level" else f"`{name}`"
    out = [f"## {title}", ""]
    if name != "Top level":
        at = [
            f"`{path}`" + (f" ({', '.join(holders).replace(', in [', ', [')})" if holders else "")
            for path, holders in places.items()
        ]
        out += ["At " + "; ".join(at) + ".", ""]
        if node.get("description"):
            out += [_one_line(node["description"]), ""]
    out += ["| key | type | default | description |", "|---|---|---|---|"]
    required = set(node.get("required", []))
    for key, field in node.get("properties", {}).items():
        default = "required" if key in required else _default(field)
        out.append(
            f"| `{key}` | {_cell(_type(field))} | {_cell(default)} | {_cell(_one_line(field.get('description', '')))} |"
        )
    return "\n".join(out) + "\n"


def _type(node: Any) -> str:
    if not isinstance(node, dict) or not node:
        return "any"
    if "$ref" in node:
        ref = node["$ref"].rsplit("/", 1)[1]
        return f"[{ref}](#{ref.lower()})"
    if "const" in node:
        return f"`{json.dumps(node['const'])}`"
    if "enum" in node:
        return " \\| ".join(f"`{json.dumps(value)}`" for value in node["enum"])
    alternatives = node.get("anyOf") or node.get("oneOf")
    if alternatives:
        parts: list[str] = []
        for alternative in alternatives:
            rendered = _type(alternative)
            if rendered not in parts:
                parts.append(rendered)
        if parts[-1:] == ["null"] and len(parts) > 1:
            parts = parts[:-1] + ["null"]
        text = " \\| ".join(parts)
        discriminator = node.get("discriminator", {}).get("propertyName")
        return f"{text} (by `{discriminator}`)" if discriminator else text
    kind = node.get("type")
    if kind == "array":
        return f"list of {_type(node.get('items', {}))}"
    if kind == "object":
        values = node.get("additionalProperties")
        if isinstance(values, dict):
            return f"map of NAME to {_type(values)}"
        return "mapping"
    if isinstance(kind, list):
        return " \\| ".join(kind)
    return (kind or "any") + _bounds(node)


def _bounds(node: dict[str, Any]) -> str:
    low = node.get("minimum", node.get("exclusiveMinimum"))
    high = node.get("maximum", node.get("exclusiveMaximum"))
    strict_low = "exclusiveMinimum" in node
    strict_high = "exclusiveMaximum" in node
    if low is not None and high is not None:
        return f" {'>' if strict_low else '>='} {low}, {'<' if strict_high else '<='} {high}"
    if low is not None:
        return f" {'>' if strict_low else '>='} {low}"
    if high is not None:
        return f" {'<' if strict_high else '<='} {high}"
    return ""


def _default(field: dict[str, Any]) -> str:
    if "default" not in field:
        return "-"
    value = field["default"]
    if value is None:
        return "-"
    if isinstance(value, dict) and value and "$ref" in field:
        return "its keys' defaults"
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: a `|` not already escaped is escaped."""
    out, previous = [], ""
    for char in text:
        out.append("\\|" if char == "|" and previous != "\\" else char)
        previous = char
    return "".join(out)


def default_reference_path() -> Path:
    """Where the checked-in reference lives: `docs/reference.md` of the checkout that holds this
    package, else of the current directory (as `default_schema_path` decides for the schemas)."""
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "engine").is_dir() and (checkout / "docs").is_dir():
        return checkout / REFERENCE_RELATIVE_PATH
    return Path.cwd() / REFERENCE_RELATIVE_PATH
