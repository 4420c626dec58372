"""Read the deployed app from Modal, build its Blueprint (drift.py) and diff it with the plan."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.blueprint.codec import to_data
from engine.blueprint.model import Blueprint
from engine.errors import UserError
from engine.operate import modal_cli
from engine.operate.drift import DEPLOYED, NOT_REPORTED, PLANNED, Baseline, deployed_baseline, live_blueprint
from engine.operate.names import ModalNames, ModalObject
from engine.operate.readback import (
    LiveObject,
    app_info_call,
    autoscaler_call,
    history_call,
    object_info_call,
    parse_app_info,
    parse_history,
    parse_object,
)
from engine.operate.tagging import decode_tag
from engine.plan.diff import diff_blueprints
from engine.plan.render_diff import LabelledDiff, render_diffs


@dataclass(frozen=True)
class DriftReport:
    diff: LabelledDiff
    baseline: Baseline
    overrides: tuple[str, ...]

    @property
    def drifted(self) -> bool:
        return self.diff.diff.changed

    @property
    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.baseline.from_deployed_commit:
            notes.append(
                f"deployed side: {self.baseline.description}, with what Modal reports laid over it; "
                "what Modal does not report is compared as that commit planned it"
            )
        else:
            notes.append(
                f"not compared, as Modal does not report them and {self.baseline.description}: "
                + "; ".join(NOT_REPORTED)
            )
        notes += [f"run-time override: {o}" for o in self.overrides]
        return tuple(notes)


def drift_calls(names: ModalNames) -> list[modal_cli.ModalCall]:
    calls = [app_info_call(names), history_call(names)]
    for obj in names.objects:
        calls += [object_info_call(names, obj), autoscaler_call(names, obj)]
    return calls


def compare_with_deployed(planned: Blueprint, names: ModalNames, manifest: Path, env: str | None) -> DriftReport:
    info_reply, history_reply = modal_cli.read_all([app_info_call(names), history_call(names)])
    if not info_reply.ok:
        raise UserError(info_reply.error or "")
    app = parse_app_info(info_reply.data)
    live_version = None
    if history_reply.ok:
        live_version = next((d for d in parse_history(history_reply.data) if d.version == app.version), None)
    tag = decode_tag(live_version.tag if live_version else None)

    targets: list[ModalObject] = []
    for kind, found in (("server", app.servers), ("function", app.functions)):
        for name in found:
            targets.append(names.by_modal_name(kind, name) or ModalObject(kind, name, name, names.app, web=None))
    calls = [c for obj in targets for c in (object_info_call(names, obj), autoscaler_call(names, obj))]
    replies = modal_cli.read_all(calls)
    failed = [r.error for r in replies if not r.ok]
    if failed:
        raise UserError(f"cannot read the deployed app: {failed[0]}")
    objects: dict[tuple[str, str], LiveObject] = {}
    for index, obj in enumerate(targets):
        info, autoscaler = replies[2 * index].data, replies[2 * index + 1].data
        objects[(obj.kind, obj.name)] = parse_object(obj.kind, obj.name, info, autoscaler)

    baseline = deployed_baseline(planned, manifest, env, tag)
    if not history_reply.ok:
        baseline = Baseline(planned, f"the history is not readable ({history_reply.error})", False)
    live = live_blueprint(baseline.blueprint, app, objects)
    overrides = tuple(
        f"{o.kind} {o.name}: {override.setting} set by {override.actor}"
        + (f" at {override.updated_at}" if override.updated_at else "")
        for o in objects.values()
        for override in o.overrides
    )
    return DriftReport(LabelledDiff(diff_blueprints(live, planned), DEPLOYED, PLANNED), baseline, overrides)


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        data = json.loads(render_diffs([report.diff], "json"))[0]
        data.update(
            baseline=report.baseline.description,
            from_deployed_commit=report.baseline.from_deployed_commit,
            not_compared=[] if report.baseline.from_deployed_commit else list(NOT_REPORTED),
            overrides=list(report.overrides),
            drifted=report.drifted,
        )
        return json.dumps(to_data(data), indent=2, ensure_ascii=False) + "\n"
    text = render_diffs([report.diff], fmt)
    if fmt == "markdown":
        return text + "\n" + "\n>\n".join(f"> {note}" for note in report.notes) + "\n"
    return text + "".join(f"  ({note})\n" for note in report.notes)
