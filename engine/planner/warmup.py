"""A service's `warmup` -> `WarmupSpec`: the same shape for llm services and `kind: server`.

Each key is the manifest's, else a default: an llm service's request is the engine's tiny chat
completion (`default`), a server has none (its model requires a `path`); a POST with a body, a
GET without; any 2xx; fatal. Left out, an llm service warms up only before a memory snapshot
(`snapshot`), a server never; `warmup: false` means none at all.
"""

from __future__ import annotations

import json
from typing import Literal

from engine.blueprint.model import WarmupSpec
from engine.manifest.models.llm import Warmup
from engine.planner.context import PlanContext
from engine.planner.defaults import WARMUP_REQUESTS
from engine.planner.origins import KeyPath, OriginRecorder, planner_default


def plan_warmup(
    ctx: PlanContext,
    at: KeyPath,
    path: KeyPath,
    warmup: Warmup | Literal[False] | None,
    *,
    default: WarmupSpec | None,
    default_from: tuple[str | None, list[KeyPath]] = (None, []),
    snapshot: bool = False,
) -> WarmupSpec | None:
    """`at`/`path`: the server's Blueprint path and manifest path; `warmup` the model's value;
    `default` the request sent where the manifest gives no path, and `default_from` (the engine
    that decided it, the manifest keys it was made from) for its origin."""
    rec = ctx.origins
    w_at, w_key = (*at, "warmup"), (*path, "warmup")
    if warmup is False or (warmup is None and not snapshot):
        rec.pick(w_at, (warmup, w_key))
        return None
    engine, inputs = default_from
    if warmup is None:  # unset, before a snapshot: the default request, once
        assert default is not None
        rec.planner(w_at, None, [*inputs], parts=True)
        rec.planner((*w_at, "requests"), "WARMUP_REQUESTS", [(*path, "memory_snapshot")])
        _record_default_request(rec, w_at, engine, inputs)
        _record_rest(rec, w_at, w_key, None)
        return WarmupSpec(path=default.path, body=default.body, requests=WARMUP_REQUESTS, method=default.method)
    rec.planner(w_at, None, [w_key, *inputs], parts=True)
    requests = rec.pick(
        (*w_at, "requests"), (warmup.requests, (*w_key, "requests")), planner_default("WARMUP_REQUESTS")
    )
    if warmup.path is None and warmup.body is None:
        assert default is not None  # a server's model requires a path
        _record_default_request(rec, w_at, engine, inputs)
        request_path, body, method = default.path, default.body, default.method
    else:
        if warmup.path is not None:
            rec.manifest((*w_at, "path"), (*w_key, "path"))
            request_path = warmup.path
        else:
            assert default is not None
            rec.engine((*w_at, "path"), engine or "", [])
            request_path = default.path
        if warmup.body is not None:
            rec.manifest((*w_at, "body"), (*w_key, "body"))
            body = json.dumps(warmup.body, sort_keys=True)
        else:
            rec.unset((*w_at, "body"), "a warm-up to another path sends no body unless `body` gives one")
            body = ""
        method = rec.pick(
            (*w_at, "method"),
            (warmup.method, (*w_key, "method")),
            planner_default("WARMUP_METHOD_WITH_BODY" if body else "WARMUP_METHOD_WITHOUT_BODY"),
        )
    if warmup.method is not None:
        rec.manifest((*w_at, "method"), (*w_key, "method"))
        method = warmup.method
    _record_rest(rec, w_at, w_key, warmup)
    return WarmupSpec(
        path=request_path,
        body=body,
        requests=requests,
        method=method,
        status=warmup.status,
        fatal=warmup.fatal if warmup.fatal is not None else planner_default("WARMUP_FATAL").value,
    )


def _record_default_request(rec: OriginRecorder, w_at: KeyPath, engine: str | None, inputs: list[KeyPath]) -> None:
    rec.engine((*w_at, "path"), engine or "", [])
    rec.planner((*w_at, "body"), None, inputs)
    rec.engine((*w_at, "method"), engine or "", [])


def _record_rest(rec: OriginRecorder, w_at: KeyPath, w_key: KeyPath, warmup: Warmup | None) -> None:
    rec.pick((*w_at, "status"), (warmup.status if warmup else None, (*w_key, "status")))
    rec.pick((*w_at, "fatal"), (warmup.fatal if warmup else None, (*w_key, "fatal")), planner_default("WARMUP_FATAL"))
