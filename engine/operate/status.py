"""`mdeploy status`: the deployed app of a manifest, read from Modal, per object.

Reads `modal app info` (which objects exist, the app's state and live version), `modal app stats`
(containers and errors of the last hour), `modal app history` (the live version's tag) and
`modal server|function info` of each object on HTTP (its URL), in parallel.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.blueprint.model import Blueprint
from engine.errors import UserError
from engine.operate import modal_cli
from engine.operate.names import ModalNames
from engine.operate.readback import (
    ObjectStats,
    app_info_call,
    app_stats_call,
    history_call,
    object_info_call,
    parse_app_info,
    parse_app_stats,
    parse_history,
    parse_object,
)
from engine.operate.tagging import content_hash, decode_tag


@dataclass(frozen=True)
class ObjectStatus:
    kind: str
    key: str  # the manifest key; Modal's name for an object the manifest lacks
    name: str
    state: str  # "deployed" | "missing" (planned, not in the app) | "not in the manifest"
    url: str | None
    containers: int | None  # active in the stats window; None when not reported
    container_errors: int | None
    requests: int | None  # calls, for a function
    failed: int | None
    problem: str | None = None  # a read that failed for this object


@dataclass(frozen=True)
class AppStatus:
    app: str
    environment: str | None
    state: str | None
    version: int | None
    deployed_at: str | None
    deployed_by: str | None
    tag: str | None
    commit: str | None
    content_matches: bool | None  # the live tag's content hash == the plan's now; None: unknown
    window: tuple[str | None, str | None]
    objects: tuple[ObjectStatus, ...]
    notes: tuple[str, ...] = ()


def status_calls(names: ModalNames) -> list[modal_cli.ModalCall]:
    calls = [app_info_call(names), app_stats_call(names), history_call(names)]
    return calls + [object_info_call(names, obj) for obj in names.http_objects]


def collect_status(blueprint: Blueprint, names: ModalNames) -> AppStatus:
    info_reply, stats_reply, history_reply, *url_replies = modal_cli.read_all(status_calls(names))
    if not info_reply.ok:
        raise UserError(info_reply.error or "")
    app = parse_app_info(info_reply.data)
    notes = []
    since: str | None = None
    until: str | None = None
    stats: dict[tuple[str, str], ObjectStats] = {}
    if stats_reply.ok:
        since, until, stats = parse_app_stats(stats_reply.data)
    else:
        notes.append(f"containers and errors not reported: {stats_reply.error}")
    live = None
    if history_reply.ok:
        live = next((d for d in parse_history(history_reply.data) if d.version == app.version), None)
    else:
        notes.append(f"tag not reported: {history_reply.error}")
    tag = decode_tag(live.tag if live else None)
    urls: dict[tuple[str, str], tuple[str | None, str | None]] = {}
    for obj, reply in zip(names.http_objects, url_replies):
        url = parse_object(obj.kind, obj.name, reply.data).url if reply.ok else None
        urls[(obj.kind, obj.name)] = (url, reply.error)

    objects = []
    for obj in names.objects:
        deployed = app.object_id(obj.kind, obj.name) is not None
        url, problem = urls.get((obj.kind, obj.name), (None, None))
        objects.append(_object(obj.kind, obj.key, obj.name, "deployed" if deployed else "missing", url, stats, problem))
    for kind, found in (("server", app.servers), ("function", app.functions)):
        for name in found:
            if names.by_modal_name(kind, name) is None:
                objects.append(_object(kind, name, name, "not in the manifest", None, stats, None))
    return AppStatus(
        app=names.app,
        environment=names.env,
        state=app.state,
        version=app.version,
        deployed_at=app.deployed_at,
        deployed_by=app.deployed_by,
        tag=live.tag if live else None,
        commit=(tag.commit if tag else None) or (live.commit if live else None),
        content_matches=(tag.content_hash == content_hash(blueprint)) if tag else None,
        window=(since, until),
        objects=tuple(objects),
        notes=tuple(notes),
    )


def _object(
    kind: str,
    key: str,
    name: str,
    state: str,
    url: str | None,
    stats: Mapping[tuple[str, str], ObjectStats],
    problem: str | None,
) -> ObjectStatus:
    counts = stats.get((kind, name))
    return ObjectStatus(
        kind=kind,
        key=key,
        name=name,
        state=state,
        url=url,
        containers=counts.containers if counts else None,
        container_errors=counts.container_errors if counts else None,
        requests=counts.requests if counts else None,
        failed=counts.failed if counts else None,
        problem=problem,
    )


# ---- rendering -------------------------------------------------------------------------------


def _headline(status: AppStatus) -> list[str]:
    where = f" (environment {status.environment})" if status.environment else ""
    state = status.state or "state not reported"
    version = f", v{status.version}" if status.version else ""
    when = f", deployed {status.deployed_at}" if status.deployed_at else ""
    who = f" by {status.deployed_by}" if status.deployed_by else ""
    lines = [f"app {status.app}{where}: {state}{version}{when}{who}"]
    if status.tag or status.commit:
        live = f"live tag {status.tag}" if status.tag else "no tag"
        commit = f", commit {status.commit}" if status.commit else ""
        if status.content_matches is True:
            match = ", content = the manifest now"
        elif status.content_matches is False:
            match = ", content differs from the manifest now (see `mdeploy drift`)"
        else:
            match = ""
        lines.append(f"{live}{commit}{match}")
    return lines


def _cells(obj: ObjectStatus) -> tuple[str, str, str, str]:
    traffic = "calls" if obj.kind == "function" else "requests"
    containers = "not reported" if obj.containers is None else str(obj.containers)
    if obj.requests is None:
        errors = "not reported"
    else:
        errors = f"{obj.container_errors} container errors, {obj.failed} of {obj.requests} {traffic} failed"
    url = obj.url or (f"not reported ({obj.problem})" if obj.problem else "-")
    return obj.state, url, containers, errors


def render_status(status: AppStatus, fmt: str) -> str:
    since, until = status.window
    window = f"last hour: {since} to {until}" if since else "last hour"
    if fmt == "markdown":
        lines = [f"### `{status.app}` status", "", *(f"{line}  " for line in _headline(status)), ""]
        lines += [f"| object | state | URL | containers ({window}) | errors |", "|---|---|---|---|---|"]
        for obj in status.objects:
            lines.append(f"| {obj.kind} `{obj.key}` | " + " | ".join(_cells(obj)) + " |")
        lines += ["", *(f"> {note}" for note in status.notes)]
        return "\n".join(lines).rstrip() + "\n"
    lines = _headline(status) + [""]
    for obj in status.objects:
        state, url, containers, errors = _cells(obj)
        lines += [
            f"  {obj.kind} {obj.key}: {state}",
            f"    url         {url}",
            f"    containers  {containers} ({window})",
            f"    errors      {errors}",
        ]
    lines += [f"  ({note})" for note in status.notes]
    return "\n".join(lines) + "\n"
