"""Functions -> `FunctionSpec`: handler, container, retries, schedule, concurrency, batching, web."""

from __future__ import annotations

from typing import Any

from engine.blueprint.model import (
    BatchingSpec,
    ConcurrencySpec,
    FunctionSpec,
    RetrySpec,
    ScheduleSpec,
    WebSpec,
)
from engine.blueprint.planner_container import first, resolve_container, resolve_timeout
from engine.blueprint.planner_context import PlanContext
from engine.blueprint.planner_defaults import FUNCTION_SCALEDOWN_WINDOW, HTTP_METHOD, PROXY_AUTH
from engine.blueprint.planner_names import function_symbol


def plan_function(ctx: PlanContext, key: str, fn: Any, *, fallback_image: str) -> FunctionSpec | None:
    """`fallback_image`: the Blueprint key of a plain debian_slim image for functions that name
    none (their handler needs only the standard library and the handler package)."""
    defaults = ctx.manifest.defaults
    if fn.web is not None and not (fn.image or defaults.image):
        ctx.report(
            ("functions", key, "web"),
            "a web endpoint needs an image with FastAPI installed",
            "set `image:` (or defaults.image) to an image whose pip has fastapi[standard]",
        )
        return None
    container = resolve_container(
        ctx.app,
        defaults,
        fn,
        image=fn.image or defaults.image or fallback_image,
        scaledown_default=FUNCTION_SCALEDOWN_WINDOW,
    )
    return FunctionSpec(
        key=key,
        symbol=ctx.symbols.claim(function_symbol(key)),
        name=key,
        handler=fn.handler,
        container=container,
        timeout=resolve_timeout(defaults, fn),
        retries=_retries(fn.retries),
        schedule=_schedule(fn.schedule),
        concurrency=(
            ConcurrencySpec(max_inputs=fn.concurrency.max_inputs, target_inputs=fn.concurrency.target_inputs)
            if fn.concurrency
            else None
        ),
        batching=(
            BatchingSpec(max_batch_size=fn.batching.max_batch_size, wait_ms=fn.batching.wait_ms)
            if fn.batching
            else None
        ),
        web=(
            WebSpec(
                kind="fastapi_endpoint",
                method=first(fn.web.method, HTTP_METHOD),
                docs=fn.web.docs,
                requires_proxy_auth=first(fn.web.proxy_auth, PROXY_AUTH),
                label=fn.web.label,
            )
            if fn.web
            else None
        ),
        max_inputs=fn.max_inputs,
    )


def _retries(retries: Any) -> RetrySpec | None:
    if retries is None:
        return None
    return RetrySpec(
        max_retries=retries.count,
        backoff_coefficient=float(retries.backoff),
        initial_delay=float(retries.initial_delay),
        max_delay=float(retries.max_delay),
    )


def _schedule(schedule: Any) -> ScheduleSpec | None:
    if schedule is None:
        return None
    if hasattr(schedule, "cron"):
        return ScheduleSpec(kind="cron", cron=schedule.cron, timezone=schedule.timezone)
    return ScheduleSpec(kind="period", seconds=schedule.every)
