"""Functions -> `FunctionSpec`: handler, container, retries, schedule, concurrency, batching, web."""

from __future__ import annotations

from engine.blueprint.model import (
    BatchingSpec,
    ConcurrencySpec,
    ContainerSpec,
    FunctionSpec,
    RetrySpec,
    ScheduleSpec,
    WebSpec,
)
from engine.manifest.models.classes import ClassFunction
from engine.manifest.models.container import InputConcurrency
from engine.manifest.models.functions import Batching, CronSchedule, Function, FunctionWeb, PeriodSchedule, Retries
from engine.planner.classes import plan_class
from engine.planner.container import resolve_function_container, resolve_routing_region, resolve_timeout
from engine.planner.context import PlanContext
from engine.planner.models import used_models
from engine.planner.names import class_symbol, function_symbol
from engine.planner.origins import KeyPath, OriginRecorder, planner_default


def plan_function(
    ctx: PlanContext, key: str, fn: Function | ClassFunction, *, fallback_image: str
) -> FunctionSpec | None:
    """`fallback_image`: the Blueprint key of a plain debian_slim image for functions that name
    none (their handler needs only the standard library and the handler package)."""
    path = ("functions", key)
    at = ("functions", key)
    rec = ctx.origins
    defaults = ctx.manifest.defaults
    if getattr(fn, "web", None) is not None and not (fn.image or defaults.image):
        ctx.report(
            ("functions", key, "web"),
            "a web endpoint needs an image with FastAPI installed",
            "set `image:` (or defaults.image) to an image whose pip has fastapi[standard]",
        )
        return None
    image = rec.pick((*at, "container", "image"), (fn.image, (*path, "image")), (defaults.image, ("defaults", "image")))
    if image is None:
        image = fallback_image
        rec.planner(
            (*at, "container", "image"),
            "FALLBACK_IMAGE_KEY",
            note="debian_slim with the planner's Python, for a function that names no image",
        )
    snapshot = fn.memory_snapshot if isinstance(fn, ClassFunction) else None
    container = resolve_function_container(ctx, fn, at=at, source=path, image=image, snapshot=snapshot)
    rec.object(at, path)
    rec.manifest((*at, "handler"), (*path, "handler"))
    rec.pick((*at, "max_inputs"), (fn.max_inputs, (*path, "max_inputs")))
    if fn.kind == "cls":
        return _class_function(ctx, key, fn, container)
    rec.unset((*at, "cls"), "a function's handler is a function; `kind: cls` makes it a class")
    return FunctionSpec(
        key=key,
        symbol=ctx.symbols.claim(function_symbol(key)),
        name=key,
        handler=fn.handler,
        container=container,
        models=used_models(ctx, at, path, fn.models),
        timeout=resolve_timeout(ctx, fn, at=at, source=path),
        retries=_retries(rec, at, path, fn.retries),
        schedule=_schedule(rec, at, path, fn.schedule),
        concurrency=_concurrency(rec, at, path, fn.concurrency),
        batching=_batching(rec, at, path, fn.batching),
        web=_web(rec, at, path, fn.web),
        max_inputs=fn.max_inputs,
        routing_region=resolve_routing_region(ctx, fn, at=at, source=path),
    )


def _class_function(ctx: PlanContext, key: str, fn: ClassFunction, container: ContainerSpec) -> FunctionSpec:
    """A class is named by its class name in Modal (`app.cls` takes no name), so the Modal name
    is the symbol: `modal.Cls.from_name(app, "Embedder")` finds it."""
    path = at = ("functions", key)
    rec = ctx.origins
    symbol = ctx.symbols.claim(class_symbol(key))
    rec.derived_from_key((*at, "symbol"), path, note="a class name derived from the manifest key (planner/names.py)")
    rec.derived_from_key((*at, "name"), path, note="Modal names a class by its class name: the symbol")
    for name in ("schedule", "batching", "web"):
        rec.unset((*at, name), "a class has none: its methods are called, and `batched:` names the batched one")
    return FunctionSpec(
        key=key,
        symbol=symbol,
        name=symbol,
        handler=fn.handler,
        container=container,
        models=used_models(ctx, at, path, fn.models),
        timeout=resolve_timeout(ctx, fn, at=at, source=path),
        retries=_retries(rec, at, path, fn.retries),
        concurrency=_concurrency(rec, at, path, fn.concurrency),
        max_inputs=fn.max_inputs,
        routing_region=resolve_routing_region(ctx, fn, at=at, source=path),
        cls=plan_class(rec, at, path, fn),
    )


def _retries(rec: OriginRecorder, at: KeyPath, path: KeyPath, retries: Retries | None) -> RetrySpec | None:
    at, path = (*at, "retries"), (*path, "retries")
    if retries is None:
        rec.pick(at, (None, path))
        return None
    rec.manifest(at, path, parts=True)
    return RetrySpec(
        max_retries=rec.pick((*at, "max_retries"), (retries.count, (*path, "count"), path)),
        backoff_coefficient=float(rec.pick((*at, "backoff_coefficient"), (retries.backoff, (*path, "backoff")))),
        initial_delay=float(rec.pick((*at, "initial_delay"), (retries.initial_delay, (*path, "initial_delay")))),
        max_delay=float(rec.pick((*at, "max_delay"), (retries.max_delay, (*path, "max_delay")))),
    )


def _schedule(
    rec: OriginRecorder, at: KeyPath, path: KeyPath, schedule: CronSchedule | PeriodSchedule | None
) -> ScheduleSpec | None:
    at, path = (*at, "schedule"), (*path, "schedule")
    if schedule is None:
        rec.pick(at, (None, path))
        return None
    rec.manifest(at, path, parts=True)
    if isinstance(schedule, CronSchedule):
        rec.planner((*at, "kind"), None, [(*path, "cron")], note="cron, as the manifest writes `cron:`")
        rec.unset((*at, "seconds"), "a cron schedule has no period")
        return ScheduleSpec(
            kind="cron",
            cron=rec.pick((*at, "cron"), (schedule.cron, (*path, "cron"))),
            timezone=rec.pick((*at, "timezone"), (schedule.timezone, (*path, "timezone"))),
        )
    rec.planner((*at, "kind"), None, [(*path, "every")], note="period, as the manifest writes `every:`")
    rec.unset((*at, "cron"), "a period schedule has no cron expression")
    rec.unset((*at, "timezone"), "a period schedule has no time zone")
    return ScheduleSpec(kind="period", seconds=rec.pick((*at, "seconds"), (schedule.every, (*path, "every"))))


def _concurrency(
    rec: OriginRecorder, at: KeyPath, path: KeyPath, concurrency: InputConcurrency | None
) -> ConcurrencySpec | None:
    at, path = (*at, "concurrency"), (*path, "concurrency")
    if concurrency is None:
        rec.pick(at, (None, path))
        return None
    rec.manifest(at, path, parts=True)
    return ConcurrencySpec(
        max_inputs=rec.pick((*at, "max_inputs"), (concurrency.max_inputs, (*path, "max_inputs"))),
        target_inputs=rec.pick((*at, "target_inputs"), (concurrency.target_inputs, (*path, "target_inputs"))),
    )


def _batching(rec: OriginRecorder, at: KeyPath, path: KeyPath, batching: Batching | None) -> BatchingSpec | None:
    at, path = (*at, "batching"), (*path, "batching")
    if batching is None:
        rec.pick(at, (None, path))
        return None
    rec.manifest(at, path, parts=True)
    return BatchingSpec(
        max_batch_size=rec.pick((*at, "max_batch_size"), (batching.max_batch_size, (*path, "max_batch_size"))),
        wait_ms=rec.pick((*at, "wait_ms"), (batching.wait_ms, (*path, "wait_ms"))),
    )


def _web(rec: OriginRecorder, at: KeyPath, path: KeyPath, web: FunctionWeb | None) -> WebSpec | None:
    at, path = (*at, "web"), (*path, "web")
    if web is None:
        rec.pick(at, (None, path))
        return None
    rec.manifest(at, path, parts=True)
    rec.planner((*at, "kind"), None, [path], note="a function's `web:` is a FastAPI endpoint")
    rec.unset((*at, "port"), "only a web_server has a port")
    rec.unset((*at, "startup_timeout"), "only a web_server has a startup timeout")
    return WebSpec(
        kind="fastapi_endpoint",
        method=rec.pick((*at, "method"), (web.method, (*path, "method")), planner_default("HTTP_METHOD")),
        docs=rec.pick((*at, "docs"), (web.docs, (*path, "docs"))),
        requires_proxy_auth=rec.pick(
            (*at, "requires_proxy_auth"), (web.proxy_auth, (*path, "proxy_auth")), planner_default("PROXY_AUTH")
        ),
        label=rec.pick((*at, "label"), (web.label, (*path, "label"))),
    )
