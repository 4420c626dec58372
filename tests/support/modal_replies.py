"""Replies in the exact shapes the installed modal 1.6.4 CLI prints with --json, built from
Modal's own dataclasses the way its CLI builds them (file and line of each are named), so that a
field Modal renames breaks these builders rather than passing unnoticed.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from modal.cli.utils import _col_name_to_json_key
from modal.types import AppStats, FunctionAutoscalerSettings, FunctionInfo, ServerAutoscalerSettings, ServerInfo

APP_ID = "ap-" + "a" * 22


def object_id(n: int) -> str:
    return f"fu-{n:022d}"


def app_info(
    app: str,
    *,
    servers: dict[str, str] | None = None,
    functions: dict[str, str] | None = None,
    version: int = 3,
    state: str = "deployed",
) -> dict[str, Any]:
    """modal/cli/app.py `info --json`."""

    def entries(found: dict[str, str] | None) -> dict[str, Any]:
        return {name: {"id": oid, "summary": {}} for name, oid in sorted((found or {}).items())}

    return {
        "description": app,
        "app_id": APP_ID,
        "lifecycle": {
            "state": state,
            "created_at": "2026-11-01T10:00:00+00:00",
            "created_by": "ci-bot",
            "deployed_at": "2026-12-01T09:30:00+00:00",
            "deployed_by": "ci-bot",
            "version": version,
            "stopped_at": None,
            "stopped_by": None,
        },
        "functions": entries(functions),
        "servers": entries(servers),
    }


def server_info(
    app: str, name: str, oid: str, *, url: str, autoscaler: ServerAutoscalerSettings | None = None, **fields: Any
) -> dict[str, Any]:
    """modal/cli/server.py `info --json`: name, ids, asdict(ServerInfo) | asdict(autoscaler settings)."""
    values: dict[str, Any] = dict(
        server_url=url,
        port=8000,
        unauthenticated=False,
        h2_enabled=False,
        routing_region="us-east",
        sessioned=False,
        startup_timeout=600,
        exit_grace_period=5,
        image_info=ServerInfo.ImageInfo(image_name=None, image_id="im-" + "b" * 22),
        cpu=None,
        memory_mib=None,
        gpus=[("H100", 1)],
        ephemeral_disk_mib=None,
        nonpreemptible=False,
        compute_regions=["us-east"],
        cloud=None,
        cluster_info=None,
        volumes={},
        cloud_bucket_mounts={},
        secrets=[],
    )
    values.update(fields)
    settings = autoscaler or ServerAutoscalerSettings(
        target_concurrency=32,
        min_containers=1,
        max_containers=8,
        buffer_containers=1,
        scaleup_window=None,
        scaledown_window=900,
    )
    info = {"name": name, "object_id": oid, "app_id": APP_ID} | dataclasses.asdict(ServerInfo(**values))
    return _json(info | dataclasses.asdict(settings))


def function_info(
    app: str,
    name: str,
    oid: str,
    *,
    url: str | None = None,
    autoscaler: FunctionAutoscalerSettings | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """modal/cli/function.py `info --json`: asdict(FunctionInfo) without _inner_server_info."""
    web = FunctionInfo.WebInfo(web_url=url, method=None, unauthenticated=True) if url else None
    values: dict[str, Any] = dict(
        cpu=1.0,
        memory_mib=1024,
        gpus=[],
        ephemeral_disk_mib=None,
        image_info=FunctionInfo.ImageInfo(image_name=None, image_id="im-" + "c" * 22),
        startup_timeout=None,
        timeout=300,
        max_retries=None,
        nonpreemptible=False,
        regions=None,
        routing_region=None,
        cloud=None,
        cluster_info=None,
        batching_info=None,
        concurrency_info=FunctionInfo.ConcurrencyInfo(max_inputs=50, target_inputs=None),
        schedule=None,
        restrict_modal_access=False,
        block_network=False,
        single_use_containers=False,
        volumes={},
        cloud_bucket_mounts={},
        secrets=[],
        web_info=web,
        method_names=None,
        method_details=None,
        _inner_server_info=None,
    )
    values.update(fields)
    settings = autoscaler or FunctionAutoscalerSettings(
        min_containers=None, max_containers=5, scaledown_window=120, buffer_containers=None
    )
    info = {"name": name, "object_id": oid, "app_id": APP_ID} | dataclasses.asdict(FunctionInfo(**values))
    info = info | dataclasses.asdict(settings)
    info.pop("_inner_server_info")
    return _json(info)


def autoscaler_settings(settings: Any, overrides: list[tuple[str, str]] = ()) -> dict[str, Any]:
    """modal/cli/server.py (and function.py) `autoscaler settings --json`."""
    current = dataclasses.asdict(settings)
    if current.get("target_concurrency") == 0:
        current["target_concurrency"] = None
    events = [
        {
            "setting": setting,
            "updated_at": "1764581400.0",
            "actor_name": actor,
            "actor_id": "us-1",
            "actor_type": "user",
        }
        for setting, actor in overrides
    ]
    return {"current_settings": current, "override_events": events}


def history(rows: list[tuple[int, str | None]], commit: str | None = "1a2b3c4") -> list[dict[str, Any]]:
    """modal/cli/app.py `history --json` via display_table: one object per row, newest first;
    the Tag column is left out when no deployment has a tag."""
    columns = ["Version", "Time deployed", "Client", "Deployed by", "Commit", "Tag"]
    table = [[f"v{v}", f"2026-12-0{v % 9 + 1}T09:00:00+00:00", "1.6.4", "ci-bot", commit, tag] for v, tag in rows]
    if not any(row[-1] for row in table):
        table = [row[:-1] for row in table]
        columns = columns[:-1]
    keys = [_col_name_to_json_key(c) for c in columns]
    return [dict(zip(keys, row)) for row in sorted(table, key=lambda r: int(r[0][1:]), reverse=True)]


def app_stats(servers: dict[str, tuple[str, int, int, int, int]] = None, functions=None) -> dict[str, Any]:
    """modal/cli/app.py `stats --json`: {name: (id, containers, container errors, total, failed)}."""

    def group(rows, kind_stats, kind_counts, traffic, group_type):
        by_name = {
            name: kind_stats(
                oid, kind_counts(traffic(total, total - failed, failed), AppStats.ContainerCounts(errors, active))
            )
            for name, (oid, active, errors, total, failed) in (rows or {}).items()
        }
        total = kind_counts(traffic(0, 0, 0), AppStats.ContainerCounts(0, 0))
        return dataclasses.asdict(group_type(total, by_name))

    def server_group(rows):
        return group(
            rows, AppStats.ServerStats, AppStats.ServerCounts, AppStats.RequestCounts, AppStats.ServerStatsGroup
        )

    def function_group(rows):
        return group(
            rows, AppStats.FunctionStats, AppStats.FunctionCounts, AppStats.CallCounts, AppStats.FunctionStatsGroup
        )

    return {
        "app_id": APP_ID,
        "since": "2026-12-01T09:00:00+00:00",
        "until": "2026-12-01T10:00:00+00:00",
        "lifecycle": {"state": "deployed", "version": 3},
        "functions": function_group(functions),
        "servers": server_group(servers),
        "sandboxes": {"total": 0, "finished": 0, "live": 0},
        "deployment_count": 3,
    }


def billing_report(rows: list[tuple[str, str, str, str, str]], tags: dict[str, str] | None = None) -> list[dict]:
    """modal/cli/billing.py `report --show-resources --json [--tag-names]`:
    (description, environment, interval start, resource, cost) per row."""
    columns = ["Object ID", "Description", "Environment", "Interval Start", "Resource", "Cost"]
    columns += ["Tags"] if tags is not None else []
    keys = [_col_name_to_json_key(c) for c in columns]
    table = []
    for description, env, start, resource, cost in rows:
        row = [APP_ID, description, env, start, resource, cost]
        table.append(row + ([json.dumps(tags)] if tags is not None else []))
    return [dict(zip(keys, row)) for row in table]


def billing_rates(rates: dict[str, str]) -> dict[str, str]:
    """modal/cli/billing.py `rates --json`: {name: str(Decimal)}, keys sorted."""
    return dict(sorted(rates.items()))


def _json(value: Any) -> Any:
    # What print_json(dumps(...)) leaves: tuples become lists.
    return json.loads(json.dumps(value))
