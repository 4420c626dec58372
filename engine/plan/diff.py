"""`diff_blueprints(old, new) -> BlueprintDiff`: what changes between two Blueprints.

Pure: two Blueprints in (either may be None: a manifest or environment that exists on one side
only), a diff out, grouped per object (matched by kind and manifest key) and per field, each
field `old -> new`, with the change in idle and peak GPU cost. Rendering is render_diff.py.

Fields are compared on the Blueprint's JSON data (codec.to_data), so a diff sees exactly what the
container would receive. `environment` and `source` are not compared: they name the two sides
(comparing dev with prod always differs there) and are shown in the header instead. The
Blueprint holds no secret values, so no diff can show one; and a changed value that came from a
`${VAR}` is shown as its reference (each side's origin record says which values did), in every
format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.blueprint.codec import to_data
from engine.blueprint.model import Blueprint
from engine.blueprint.origins import NO_ORIGINS, Origins
from engine.plan.cost import CostEstimate, ObjectCost, estimate_cost

# Blueprint field -> the kind of object it holds, in the order a diff lists them.
OBJECT_KINDS: tuple[tuple[str, str], ...] = (
    ("servers", "server"),
    ("functions", "function"),
    ("images", "image"),
    ("volumes", "volume"),
    ("secrets", "secret"),
    ("dicts", "dict"),
    ("queues", "queue"),
    ("buckets", "bucket"),
)


@dataclass(frozen=True)
class FieldChange:
    """One field, by dotted path inside its object ("container.scaling.max_containers").

    `status` is "changed", or "added" / "removed" for a list element present on one side only
    (then `old` or `new` is None).
    """

    path: str
    old: Any
    new: Any
    status: str = "changed"


@dataclass(frozen=True)
class CostFigures:
    """Per-hour GPU cost. `idle`/`peak` None: unpriced (or, for peak, unbounded when flagged)."""

    idle: float | None
    peak: float | None
    peak_unbounded: bool = False

    @classmethod
    def of_object(cls, cost: ObjectCost) -> CostFigures:
        return cls(cost.idle_per_hour, cost.peak_per_hour, cost.peak_unbounded)

    @classmethod
    def of_total(cls, cost: CostEstimate) -> CostFigures:
        return cls(cost.idle_per_hour, cost.peak_per_hour, cost.peak_unbounded)


ZERO_COST = CostFigures(0.0, 0.0)


@dataclass(frozen=True)
class CostChange:
    old: CostFigures
    new: CostFigures

    @property
    def changed(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class ObjectDiff:
    """One object that was added, removed or changed; `cost` only for servers and functions."""

    kind: str
    key: str
    status: str  # "added" | "removed" | "changed"
    fields: tuple[FieldChange, ...] = ()
    cost: CostChange | None = None


@dataclass(frozen=True)
class BlueprintDiff:
    """Everything that differs; `status` "unchanged" | "changed" | "added" | "removed".

    `app` and `environment` name the app (the new side's, else the old side's); `old_environment`
    differs from `environment` when two environments are compared.
    """

    app: str
    environment: str
    old_environment: str
    source: str  # the manifest, for humans (the new side's, else the old side's)
    status: str
    app_fields: tuple[FieldChange, ...]
    objects: tuple[ObjectDiff, ...]
    cost: CostChange

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"


def diff_blueprints(
    old: Blueprint | None,
    new: Blueprint | None,
    *,
    old_origins: Origins = NO_ORIGINS,
    new_origins: Origins = NO_ORIGINS,
) -> BlueprintDiff:
    """`old_origins` / `new_origins`: the planner's records of each side, so that a value from a
    variable is shown as its reference (values are still compared as planned)."""
    if old is None and new is None:
        raise ValueError("diff_blueprints needs at least one Blueprint")
    named = new if new is not None else old
    assert named is not None
    old_cost = estimate_cost(old) if old is not None else None
    new_cost = estimate_cost(new) if new is not None else None
    sides = _Sides(old_origins, new_origins)
    app_fields = tuple(_app_field_changes(old, new, sides)) if old is not None and new is not None else ()
    objects = tuple(_object_diffs(old, new, old_cost, new_cost, sides))
    if old is None:
        status = "added"
    elif new is None:
        status = "removed"
    else:
        status = "changed" if app_fields or objects else "unchanged"
    return BlueprintDiff(
        app=(new_origins if new is not None else old_origins).text(("app",), named.app),
        environment=named.environment,
        old_environment=(old or named).environment,
        source=named.source,
        status=status,
        app_fields=app_fields,
        objects=objects,
        cost=CostChange(
            CostFigures.of_total(old_cost) if old_cost else ZERO_COST,
            CostFigures.of_total(new_cost) if new_cost else ZERO_COST,
        ),
    )


class _Sides:
    """Shows a value of the old or the new side as humans see it (references for variables)."""

    def __init__(self, old: Origins, new: Origins):
        self.old, self.new = old, new

    def change(
        self,
        dotted: str,
        at: tuple[str | int, ...],
        old: Any,
        new: Any,
        status: str = "changed",
        *,
        element: bool = False,
    ) -> FieldChange:
        """`element`: a whole list element, shown without its unset fields."""
        shown_old = None if status == "added" else self.old.shown(at, old)
        shown_new = None if status == "removed" else self.new.shown(at, new)
        if element:
            shown_old = _compact(shown_old) if isinstance(shown_old, dict) else shown_old
            shown_new = _compact(shown_new) if isinstance(shown_new, dict) else shown_new
        return FieldChange(dotted, shown_old, shown_new, status)


def _app_field_changes(old: Blueprint, new: Blueprint, sides: _Sides) -> list[FieldChange]:
    # Not `environment` or `source`: they name the two sides being compared.
    changes = []
    for name in ("app", "tags", "version"):
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            changes.append(sides.change(name, (name,), before, after))
    return changes


def _object_diffs(
    old: Blueprint | None,
    new: Blueprint | None,
    old_cost: CostEstimate | None,
    new_cost: CostEstimate | None,
    sides: _Sides,
) -> list[ObjectDiff]:
    old_costs = _costs_by_object(old_cost)
    new_costs = _costs_by_object(new_cost)
    diffs = []
    for field_name, kind in OBJECT_KINDS:
        before = {obj.key: obj for obj in (getattr(old, field_name) if old else ())}
        after = {obj.key: obj for obj in (getattr(new, field_name) if new else ())}
        # New side's order first, then what only the old side had, in its order.
        keys = list(after) + [k for k in before if k not in after]
        for key in keys:
            cost = _cost_change(old_costs.get((kind, key)), new_costs.get((kind, key)))
            if key not in before:
                diffs.append(ObjectDiff(kind, key, "added", cost=cost))
            elif key not in after:
                diffs.append(ObjectDiff(kind, key, "removed", cost=cost))
            else:
                fields = tuple(_field_changes("", (field_name, key), to_data(before[key]), to_data(after[key]), sides))
                if fields:
                    diffs.append(ObjectDiff(kind, key, "changed", fields, cost))
    return diffs


def _costs_by_object(cost: CostEstimate | None) -> dict[tuple[str, str], ObjectCost]:
    return {(o.kind, o.key): o for o in cost.objects} if cost else {}


def _cost_change(old: ObjectCost | None, new: ObjectCost | None) -> CostChange | None:
    if old is None and new is None:
        return None  # not a server or function: no compute to price
    return CostChange(
        CostFigures.of_object(old) if old else ZERO_COST,
        CostFigures.of_object(new) if new else ZERO_COST,
    )


def _field_changes(path: str, at: tuple[str | int, ...], old: Any, new: Any, sides: _Sides) -> list[FieldChange]:
    """Leaf differences between two JSON values, as dotted paths (`steps[2].args`); `at` is the
    same place as a Blueprint path, where the origin records look values up."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for name in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{name}" if path else name
            here = (*at, name)
            if name not in old:
                changes.append(sides.change(sub, here, None, new[name], "added"))
            elif name not in new:
                changes.append(sides.change(sub, here, old[name], None, "removed"))
            else:
                changes += _field_changes(sub, here, old[name], new[name], sides)
        return changes
    if _are_lists_of_objects(old, new):
        # Image steps, mounts, secret arguments: compare element by element, so one changed
        # step is one line rather than the whole list twice.
        changes = []
        for index in range(max(len(old), len(new))):
            sub = f"{path}[{index}]"
            here = (*at, index)
            if index >= len(old):
                changes.append(sides.change(sub, here, None, new[index], "added", element=True))
            elif index >= len(new):
                changes.append(sides.change(sub, here, old[index], None, "removed", element=True))
            else:
                inner = _field_changes(sub, here, old[index], new[index], sides)
                if len(inner) > 1:
                    # A different element altogether (another step), not one edited field.
                    inner = [sides.change(sub, here, old[index], new[index], element=True)]
                changes += inner
        return changes
    return [] if old == new else [sides.change(path, at, old, new)]


def _compact(element: dict[str, Any]) -> dict[str, Any]:
    """A list element without its unset fields (None, empty, False): `{"op": "apt_install", "args": ["git"]}`."""
    return {k: v for k, v in element.items() if v not in (None, False, "", [], {})}


def _are_lists_of_objects(old: Any, new: Any) -> bool:
    if not (isinstance(old, list) and isinstance(new, list)) or not (old or new):
        return False
    return all(isinstance(item, dict) for item in old + new)
