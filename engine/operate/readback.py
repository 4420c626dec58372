"""What Modal says is deployed, read with its CLI's `--json` output, into plain dataclasses.

The shapes are those the installed modal 1.6.4 prints (modal/cli/app.py `info`, `history`,
`stats`; modal/cli/server.py and function.py `info` and `autoscaler settings`): `server info`
is the server's `ServerInfo` plus its current autoscaler settings, `autoscaler settings` adds
which of them were overridden at run time, by whom. Anything missing from a reply is None,
never guessed: the commands say "not reported" for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.operate.modal_cli import ModalCall, call, env_args
from engine.operate.names import ModalNames, ModalObject

AUTOSCALER_SETTINGS = ("min_containers", "max_containers", "buffer_containers", "scaledown_window")
SERVER_AUTOSCALER_SETTINGS = (*AUTOSCALER_SETTINGS, "target_concurrency")


# ---- the calls -------------------------------------------------------------------------------


def app_info_call(names: ModalNames) -> ModalCall:
    return call("app", "info", names.app, *env_args(names.env), "--json")


def app_stats_call(names: ModalNames) -> ModalCall:
    return call("app", "stats", names.app, *env_args(names.env), "--json")


def history_call(names: ModalNames) -> ModalCall:
    return call("app", "history", names.app, *env_args(names.env), "--json")


def object_info_call(names: ModalNames, obj: ModalObject) -> ModalCall:
    return call(obj.kind, "info", obj.ref, *env_args(names.env), "--json")


def autoscaler_call(names: ModalNames, obj: ModalObject) -> ModalCall:
    return call(obj.kind, "autoscaler", "settings", obj.ref, *env_args(names.env), "--json")


# ---- the replies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveApp:
    app_id: str | None
    state: str | None
    version: int | None
    deployed_at: str | None
    deployed_by: str | None
    functions: dict[str, str]  # Modal name -> object id
    servers: dict[str, str]

    def object_id(self, kind: str, name: str) -> str | None:
        return (self.servers if kind == "server" else self.functions).get(name)


def parse_app_info(data: Any) -> LiveApp:
    data = _mapping(data)
    lifecycle = _mapping(data.get("lifecycle"))
    return LiveApp(
        app_id=data.get("app_id"),
        state=lifecycle.get("state"),
        version=lifecycle.get("version"),
        deployed_at=lifecycle.get("deployed_at"),
        deployed_by=lifecycle.get("deployed_by"),
        functions={name: _mapping(e).get("id", "") for name, e in _mapping(data.get("functions")).items()},
        servers={name: _mapping(e).get("id", "") for name, e in _mapping(data.get("servers")).items()},
    )


@dataclass(frozen=True)
class Override:
    setting: str
    actor: str
    updated_at: str


@dataclass(frozen=True)
class LiveObject:
    """`modal server|function info --json` of one object, and its autoscaler overrides."""

    kind: str
    name: str
    info: dict[str, Any]
    overrides: tuple[Override, ...] = ()
    autoscaler: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str | None:
        if self.kind == "server":
            return self.info.get("server_url") or None
        return _mapping(self.info.get("web_info")).get("web_url") or None

    def setting(self, name: str) -> Any:
        """An autoscaler setting: the `autoscaler settings` reply's, else the one `info` carries."""
        if name in self.autoscaler:
            return self.autoscaler[name]
        return self.info.get(name)


def parse_object(kind: str, name: str, info: Any, autoscaler: Any = None) -> LiveObject:
    settings = _mapping(_mapping(autoscaler).get("current_settings"))
    events = _mapping(autoscaler).get("override_events") or []
    overrides = tuple(
        Override(str(e.get("setting")), str(e.get("actor_name") or "unknown"), str(e.get("updated_at") or ""))
        for e in events
        if isinstance(e, Mapping)
    )
    return LiveObject(kind=kind, name=name, info=dict(_mapping(info)), overrides=overrides, autoscaler=dict(settings))


@dataclass(frozen=True)
class ObjectStats:
    """One object's counts over the stats window (the last hour unless asked otherwise)."""

    containers: int
    container_errors: int
    requests: int  # calls for a function
    failed: int


def parse_app_stats(data: Any) -> tuple[str | None, str | None, dict[tuple[str, str], ObjectStats]]:
    """(since, until, {(kind, name): stats}) from `modal app stats --json`."""
    data = _mapping(data)
    found: dict[tuple[str, str], ObjectStats] = {}
    for kind, group, traffic in (("function", "functions", "calls"), ("server", "servers", "requests")):
        for name, row in _mapping(_mapping(data.get(group)).get("by_name")).items():
            counts = _mapping(_mapping(row).get("counts"))
            containers = _mapping(counts.get("containers"))
            flow = _mapping(counts.get(traffic))
            found[(kind, name)] = ObjectStats(
                containers=int(containers.get("total") or 0),
                container_errors=int(containers.get("errors") or 0),
                requests=int(flow.get("total") or 0),
                failed=int(flow.get("failed") or 0),
            )
    return data.get("since"), data.get("until"), found


@dataclass(frozen=True)
class Deployment:
    version: int
    deployed_at: str | None
    deployed_by: str | None
    commit: str | None  # Modal's own record of the git commit (7 hex, `*` when dirty)
    tag: str | None


def parse_history(data: Any) -> list[Deployment]:
    """`modal app history --json`, newest first (its rows are sorted by version, descending;
    the `tag` key is absent when no deployment used one)."""
    rows = data if isinstance(data, list) else []
    found = []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        version = str(row.get("version") or "").lstrip("v")
        if not version.isdigit():
            continue
        found.append(
            Deployment(
                version=int(version),
                deployed_at=row.get("time_deployed"),
                deployed_by=row.get("deployed_by"),
                commit=row.get("commit"),
                tag=row.get("tag"),
            )
        )
    return sorted(found, key=lambda d: d.version, reverse=True)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}
