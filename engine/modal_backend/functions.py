"""FunctionSpec -> an `@app.function` whose body imports and calls the spec's handler.

The wrapper is a plain function renamed to the spec's symbol (`__name__`, `__qualname__`,
`__module__` of the entry module), so Modal records `implementation_name = symbol` and the
container finds it again with `getattr(entry_module, symbol)`.

Its shape follows what Modal checks at registration, before any handler is imported:
- scheduled: nullary (Modal calls it with no arguments and rejects anything else);
- `asgi_app` / `wsgi_app` / `web_server`: nullary and synchronous (Modal requires both); the
  first two return the imported app, `web_server` calls the handler, which starts the server;
- `fastapi_endpoint`: `async def (*args, **kwargs)`, so an async handler is awaited and a sync one
  runs in a worker thread, as FastAPI itself would do; FastAPI reads the handler's signature
  through `handlers.expose_signature` (container only);
- batched and plain: `def (*args, **kwargs)` (batching also reads the real signature in the
  container). An async handler's coroutine is run to completion in the input's thread.
Generator handlers are not supported: the Blueprint does not say a handler is one, and Modal
fixes `is_generator` at registration.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import modal

from engine.blueprint.model import FunctionSpec, RetrySpec, ScheduleSpec, WebSpec
from engine.modal_backend.calls import building
from engine.modal_backend.containers import region_argument, shared_container_kwargs
from engine.modal_backend.handlers import HandlerRef, expose_signature
from engine.modal_backend.resources import Resources


def make_wrapper(spec: FunctionSpec, module_name: str) -> tuple[Callable[..., Any], HandlerRef]:
    handler = HandlerRef(spec.handler)
    web_kind = spec.web.kind if spec.web else None

    # One wrapper per shape, each with the signature Modal inspects; all are named spec.symbol below.
    def serve_app() -> Any:
        return handler.target

    def start_server() -> None:
        handler.target()

    async def endpoint(*args: Any, **kwargs: Any) -> Any:
        target = handler.target
        if inspect.iscoroutinefunction(target):
            return await target(*args, **kwargs)
        return await asyncio.to_thread(target, *args, **kwargs)

    def scheduled() -> Any:
        return _run_to_completion(handler.target())

    def call(*args: Any, **kwargs: Any) -> Any:
        return _run_to_completion(handler.target(*args, **kwargs))

    wrapper: Callable[..., Any]
    if web_kind in ("asgi_app", "wsgi_app"):
        wrapper = serve_app
    elif web_kind == "web_server":
        wrapper = start_server
    elif web_kind == "fastapi_endpoint":
        wrapper = endpoint
    elif spec.schedule is not None:
        wrapper = scheduled
    else:
        wrapper = call

    wrapper.__name__ = wrapper.__qualname__ = spec.symbol
    wrapper.__module__ = module_name
    wrapper.__doc__ = f"mdeploy function {spec.key!r}: calls {spec.handler}"
    return wrapper, handler


def add_function(
    app: modal.App,
    spec: FunctionSpec,
    module_name: str,
    images: dict[str, modal.Image],
    resources: Resources,
    *,
    in_container: bool,
    env_values: Mapping[str, str] | None = None,
) -> modal.Function[..., Any, Any]:
    wrapper, handler = make_wrapper(spec, module_name)
    at = ("functions", spec.key)
    decorated: Any = wrapper
    if spec.web is not None:
        with building(at, "web"):
            decorated = _web_decorator(spec.web)(decorated)
    if spec.batching is not None:
        with building(at, "batched"):
            decorated = modal.batched(max_batch_size=spec.batching.max_batch_size, wait_ms=spec.batching.wait_ms)(
                decorated
            )
    if spec.concurrency is not None:
        with building(at, "concurrent"):
            decorated = modal.concurrent(
                max_inputs=spec.concurrency.max_inputs, target_inputs=spec.concurrency.target_inputs
            )(decorated)
    kwargs = function_kwargs(spec, images, resources, env_values)
    with building(at, "app.function"):
        function = app.function(**kwargs)(decorated)
    if in_container and (spec.batching is not None or (spec.web and spec.web.kind == "fastapi_endpoint")):
        expose_signature(wrapper, handler)
    return function


def function_kwargs(
    spec: FunctionSpec,
    images: dict[str, modal.Image],
    resources: Resources,
    env_values: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    kwargs = invocable_kwargs(spec, images, resources, env_values, "app.function")
    kwargs["name"] = spec.name
    # Built apart: Modal checks a schedule's and a retry policy's values as they are made.
    with building(("functions", spec.key), "schedule"):
        kwargs["schedule"] = schedule_argument(spec.schedule)
    with building(("functions", spec.key), "retries"):
        kwargs["retries"] = retries_argument(spec.retries)
    return kwargs


def invocable_kwargs(
    spec: FunctionSpec,
    images: dict[str, modal.Image],
    resources: Resources,
    env_values: Mapping[str, str] | None,
    decorator: str,
) -> dict[str, Any]:
    """What `app.function` and `app.cls` take alike from a FunctionSpec: the container, timeout,
    regions and one-input-per-container; `decorator` names the one asked for in errors."""
    container = spec.container
    kwargs = shared_container_kwargs(container, images, resources, env_values)
    kwargs.update(timeout=spec.timeout, region=region_argument(container.region))
    if spec.routing_region is not None:
        kwargs["routing_region"] = spec.routing_region
    if container.scaling.scaleup_window is not None:
        raise ValueError(f"{spec.key!r}: {decorator} has no scaleup_window (servers only)")
    if spec.max_inputs == 1:
        # Modal's current spelling of "one input per container" (max_inputs=1 is deprecated).
        kwargs["single_use_containers"] = True
    elif spec.max_inputs is not None:
        raise ValueError(f"{spec.key!r}: Modal supports only max_inputs=1, got {spec.max_inputs}")
    return kwargs


def schedule_argument(schedule: ScheduleSpec | None) -> modal.Cron | modal.Period | None:
    if schedule is None:
        return None
    if schedule.kind == "cron":
        if schedule.cron is None:
            raise ValueError("a cron schedule without its cron expression")
        if schedule.timezone:
            return modal.Cron(schedule.cron, timezone=schedule.timezone)
        return modal.Cron(schedule.cron)
    if schedule.kind == "period":
        if schedule.seconds is None:
            raise ValueError("a period schedule without its seconds")
        return modal.Period(seconds=schedule.seconds)
    raise ValueError(f"unknown schedule kind {schedule.kind!r} (cron | period)")


def retries_argument(retries: RetrySpec | None) -> modal.Retries | None:
    if retries is None:
        return None
    return modal.Retries(
        max_retries=retries.max_retries,
        backoff_coefficient=retries.backoff_coefficient,
        initial_delay=retries.initial_delay,
        max_delay=retries.max_delay,
    )


def _web_decorator(web: WebSpec) -> Callable[[Any], Any]:
    common: dict[str, Any] = {"label": web.label, "requires_proxy_auth": web.requires_proxy_auth}
    if web.kind == "fastapi_endpoint":
        if web.method is not None:
            common["method"] = web.method
        return modal.fastapi_endpoint(docs=web.docs, **common)
    if web.kind == "asgi_app":
        return modal.asgi_app(**common)
    if web.kind == "wsgi_app":
        return modal.wsgi_app(**common)
    if web.kind == "web_server":
        if web.port is None or web.startup_timeout is None:
            raise ValueError("a web_server needs port and startup_timeout in the Blueprint")
        return modal.web_server(web.port, startup_timeout=web.startup_timeout, **common)
    raise ValueError(f"unknown web kind {web.kind!r} (fastapi_endpoint | asgi_app | wsgi_app | web_server)")


def _run_to_completion(result: Any) -> Any:
    """Handlers may be `async def`; Modal calls the synchronous wrapper in a worker thread."""
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable
