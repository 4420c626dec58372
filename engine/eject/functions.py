"""One `@app.function` per `FunctionSpec`: a thin function that imports its handler and calls it.

The handler is imported inside the body, as Modal's examples import GPU-only packages: the
package need not be installed where `modal deploy` runs, only in the image. Handlers may be
`async def`, and the file cannot know which are, so the bodies do what the entry module's
wrappers do (engine/modal_backend/functions.py): a plain or scheduled function runs a returned
coroutine to completion (`run_to_completion`, written once per file), and a `fastapi_endpoint`
is `async def`, awaiting an async handler and running a sync one in a worker thread.
"""

from __future__ import annotations

from engine.blueprint.model import PREFETCH_HANDLER, ClassParameterSpec, FunctionSpec, RetrySpec, ScheduleSpec, WebSpec
from engine.eject.container import EnvParts, Names, container_kwargs
from engine.eject.prefetch import prefetch_function
from engine.eject.pysrc import call, py_duration, py_literal, py_str

# Written once per file, before the functions, when some function's body calls it.
RUN_HELPER = '''\
def run_to_completion(result):
    """Handlers may be `async def`: run a returned coroutine to completion in this input's thread."""
    if inspect.isawaitable(result):
        return asyncio.run(_awaited(result))
    return result


async def _awaited(awaitable):
    return await awaitable'''
RUN_HELPER_NAMES = ("run_to_completion", "_awaited")


def calls_run_helper(spec: FunctionSpec) -> bool:
    """Plain, batched and scheduled functions call `run_to_completion`; web ones and the prefetch
    function (its body is written out) do not."""
    return spec.web is None and spec.handler != PREFETCH_HANDLER


def awaits_handler(spec: FunctionSpec) -> bool:
    return spec.web is not None and spec.web.kind == "fastapi_endpoint"


def render_function(spec: FunctionSpec, names: Names, env_parts: dict[str, EnvParts] | None = None) -> str:
    if spec.cls is not None:
        return render_class(spec, names, env_parts)
    decorators = [call("@app.function", [], _function_kwargs(spec, names, env_parts))]
    if spec.concurrency is not None:
        kwargs = [("max_inputs", str(spec.concurrency.max_inputs))]
        if spec.concurrency.target_inputs is not None:
            kwargs.append(("target_inputs", str(spec.concurrency.target_inputs)))
        decorators.append(call("@modal.concurrent", [], kwargs))
    if spec.batching is not None:
        kwargs = [
            ("max_batch_size", str(spec.batching.max_batch_size)),
            ("wait_ms", str(spec.batching.wait_ms)),
        ]
        decorators.append(call("@modal.batched", [], kwargs))
    if spec.web is not None:
        decorators.append(_web_decorator(spec.web))
    if _needs_handler_signature(spec):
        return _render_with_handler_signature(spec, names, decorators)
    return "\n".join([*decorators, *_body(spec)])


def _needs_handler_signature(spec: FunctionSpec) -> bool:
    """FastAPI builds its request parser, and batching maps inputs, from the parameters."""
    return spec.batching is not None or (spec.web is not None and spec.web.kind == "fastapi_endpoint")


def _render_with_handler_signature(spec: FunctionSpec, names: Names, decorators: list[str]) -> str:
    """Define the wrapper, point its `__wrapped__` at the handler inside the container (where the
    handler's package is installed; `inspect.signature` follows `__wrapped__`), then register it.
    The decorators are applied as calls, innermost last, because the pointing must come first."""
    module, attr = spec.handler.split(":", 1)
    alias = f"_{spec.symbol}_handler"
    image = names.images[spec.container.image]
    inner = spec.symbol
    for decorator in reversed(decorators[1:]):
        inner = f"{decorator[1:]}({inner})"
    registration = f"{decorators[0][1:]}(\n    {inner}\n)"
    lines = [
        *_body(spec),
        "",
        "",
        f"with {image}.imports():",
        "    # FastAPI and batching read the parameters of the function: show them the handler's.",
        f"    from {module} import {attr} as {alias}",
        "",
        f"    {spec.symbol}.__wrapped__ = {alias}",
        "",
        f"{spec.symbol} = {registration}",
    ]
    return "\n".join(lines)


def _function_kwargs(spec: FunctionSpec, names: Names, env_parts: dict[str, EnvParts] | None) -> list[tuple[str, str]]:
    kwargs = container_kwargs(spec.container, names, server=False, timeout=spec.timeout, env_parts=env_parts)
    if spec.name != spec.symbol:
        kwargs.insert(0, ("name", py_str(spec.name)))
    if spec.retries is not None:
        kwargs.append(("retries", _retries(spec.retries)))
    if spec.schedule is not None:
        kwargs.append(("schedule", _schedule(spec.schedule)))
    if spec.routing_region is not None:
        kwargs.append(("routing_region", py_str(spec.routing_region)))
    if spec.max_inputs == 1:
        # Modal 1.6 spells `max_inputs=1` this way (it accepts no other value).
        kwargs.append(("single_use_containers", "True"))
    elif spec.max_inputs is not None:
        raise ValueError(f"function {spec.key!r}: Modal supports only max_inputs=1, not {spec.max_inputs}")
    return kwargs


def _retries(retries: RetrySpec) -> str:
    kwargs = [
        ("max_retries", str(retries.max_retries)),
        ("backoff_coefficient", py_literal(retries.backoff_coefficient)),
        ("initial_delay", py_literal(retries.initial_delay)),
        ("max_delay", py_literal(retries.max_delay)),
    ]
    return call("modal.Retries", [], kwargs)


def _schedule(schedule: ScheduleSpec) -> str:
    if schedule.kind == "cron":
        kwargs = [("timezone", py_str(schedule.timezone))] if schedule.timezone else []
        return call("modal.Cron", [py_str(schedule.cron or "")], kwargs)
    if schedule.kind == "period":
        return f"modal.Period({_period_kwargs(schedule.seconds or 0)})"
    raise ValueError(f"unknown schedule kind {schedule.kind!r}")


def _period_kwargs(seconds: int) -> str:
    """The largest whole unit reads best: `hours=4` rather than `seconds=14400`."""
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{unit}={seconds // size}"
    return f"seconds={seconds}"


def _web_decorator(web: WebSpec) -> str:
    kwargs: list[tuple[str, str]] = []
    if web.kind == "fastapi_endpoint":
        if web.method:
            kwargs.append(("method", py_str(web.method)))
        if web.docs:
            kwargs.append(("docs", "True"))
    if web.kind == "web_server":
        kwargs.append(("port", str(web.port)))
        if web.startup_timeout is not None:
            kwargs.append(("startup_timeout", py_duration(web.startup_timeout)))
    if web.label:
        kwargs.append(("label", py_str(web.label)))
    if web.requires_proxy_auth:
        kwargs.append(("requires_proxy_auth", "True"))
    if web.kind not in ("fastapi_endpoint", "asgi_app", "wsgi_app", "web_server"):
        raise ValueError(f"unknown web kind {web.kind!r}")
    return call(f"@modal.{web.kind}", [], kwargs)


def _prefetch_body(spec: FunctionSpec) -> list[str]:
    return prefetch_function(spec.symbol).split("\n")


def _body(spec: FunctionSpec) -> list[str]:
    if spec.handler == PREFETCH_HANDLER:
        return _prefetch_body(spec)
    module, attr = spec.handler.split(":", 1)
    imported = f"    from {module} import {attr}"
    kind = spec.web.kind if spec.web is not None else None
    if kind in ("asgi_app", "wsgi_app"):
        return [f"def {spec.symbol}():", imported, "", f"    return {attr}"]
    if kind == "web_server":
        # The handler starts the HTTP server and returns; Modal then waits for the port.
        return [f"def {spec.symbol}():", imported, "", f"    {attr}()"]
    if kind == "fastapi_endpoint":
        # FastAPI awaits an async def endpoint; a sync handler must not block its event loop.
        return [
            f"async def {spec.symbol}(*args, **kwargs):",
            imported,
            "",
            f"    if inspect.iscoroutinefunction({attr}):",
            f"        return await {attr}(*args, **kwargs)",
            f"    return await asyncio.to_thread({attr}, *args, **kwargs)",
        ]
    if spec.schedule is not None:
        # Modal calls a scheduled function with no arguments.
        return [f"def {spec.symbol}():", imported, "", f"    return run_to_completion({attr}())"]
    return [
        f"def {spec.symbol}(*args, **kwargs):",
        imported,
        "",
        f"    return run_to_completion({attr}(*args, **kwargs))",
    ]


def _parameter_lines(parameters: tuple[ClassParameterSpec, ...]) -> list[str]:
    """`name: type = modal.parameter(...)`, as Modal's class parameters are declared."""
    lines = []
    for p in parameters:
        argument = "" if p.default is None else f"default={py_literal(p.python_default)}"
        lines.append(f"    {p.name}: {p.type} = modal.parameter({argument})")
    return [*lines, ""] if lines else []


def render_class(spec: FunctionSpec, names: Names, env_parts: dict[str, EnvParts] | None = None) -> str:
    """A `kind: cls` function: an `@app.cls` around the user's class, as the entry module builds
    it (engine/modal_backend/classes.py): one enter makes the instance and runs the hooks in
    order, one exit runs the exit hooks, each method calls the instance's. A batched method is
    defined first, outside the class, so its `__wrapped__` can show batching the user's signature."""
    cls = spec.cls
    assert cls is not None
    module, attr = spec.handler.split(":", 1)
    kwargs = _function_kwargs(spec, names, env_parts)
    if cls.startup_timeout is not None:
        kwargs.append(("startup_timeout", py_duration(cls.startup_timeout)))
    decorators = [call("@app.cls", [], kwargs)]
    if spec.concurrency is not None:
        concurrent = [("max_inputs", str(spec.concurrency.max_inputs))]
        if spec.concurrency.target_inputs is not None:
            concurrent.append(("target_inputs", str(spec.concurrency.target_inputs)))
        decorators.append(call("@modal.concurrent", [], concurrent))
    before: list[str] = []
    for batched in cls.batched:
        helper = f"_{spec.symbol}_{batched.name}"
        before += [
            f"def {helper}(self, *args, **kwargs):",
            f"    return run_to_completion(self._instance.{batched.name}(*args, **kwargs))",
            "",
            "",
            f"with {names.images[spec.container.image]}.imports():",
            "    # Batching hands inputs over by parameter name: show it the user's method's parameters.",
            f"    from {module} import {attr} as _{spec.symbol}_handler",
            "",
            f"    {helper}.__wrapped__ = _{spec.symbol}_handler.{batched.name}",
            "",
            "",
        ]
    body = [
        f"class {spec.symbol}:",
        f'    """Serves {spec.handler}: one instance per container."""',
        "",
        *_parameter_lines(cls.parameters),
    ]
    construct = [
        f"        from {module} import {attr}",
        "",
        f"        self._instance = {attr}({', '.join(f'{p.name}=self.{p.name}' for p in cls.parameters)})",
    ]
    if spec.container.enable_memory_snapshot:
        body += [
            "    @modal.enter(snap=True)",
            "    def _before_snapshot(self):",
            "        # Before the memory snapshot: restored containers start with what this loaded.",
            *construct,
            *(f"        run_to_completion(self._instance.{hook}())" for hook in cls.before_snapshot),
        ]
        if cls.enter:  # after each restore
            body += [
                "",
                "    @modal.enter(snap=False)",
                "    def _enter(self):",
                *(f"        run_to_completion(self._instance.{hook}())" for hook in cls.enter),
            ]
    else:
        body += [
            "    @modal.enter()",
            "    def _enter(self):",
            *construct,
            *(f"        run_to_completion(self._instance.{hook}())" for hook in cls.enter),
        ]
    if cls.exit:
        body += [
            "",
            "    @modal.exit()",
            "    def _exit(self):",
            *(f"        run_to_completion(self._instance.{hook}())" for hook in cls.exit),
        ]
    for method in cls.methods:
        body += [
            "",
            "    @modal.method()",
            f"    def {method}(self, *args, **kwargs):",
            f"        return run_to_completion(self._instance.{method}(*args, **kwargs))",
        ]
    for batched in cls.batched:
        batch_kwargs = [("max_batch_size", str(batched.max_batch_size)), ("wait_ms", str(batched.wait_ms))]
        body += ["", f"    {batched.name} = {call('modal.batched', [], batch_kwargs)}(_{spec.symbol}_{batched.name})"]
    return "\n".join([*before, *decorators, *body])
