"""Import a handler named "package.module:attr" lazily, and show its signature to those who ask.

The reference is resolved by `engine.runtime.handler_import`, as `mdeploy run` resolves it.

Every container re-imports the entry module and rebuilds every function, including the ones it
will never run, whose packages may not even be installed in its image. So handlers are imported on
first call, never at build time.

Two readers need the handler's real signature inside the container: FastAPI (it builds the
request parser of a `fastapi_endpoint` from it) and Modal's batching (it maps the collected
inputs to parameter names). `expose_signature` hangs a `HandlerRef` on the wrapper's
`__wrapped__`: `inspect.signature` follows `__wrapped__` and reads `HandlerRef.__signature__`,
which imports the handler only when someone asks. It is attached after Modal registered the
function, because registration inspects signatures too (batching forbids defaults, schedules
need nullary functions) and must not import anything.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from engine.runtime.handler_import import import_handler


class HandlerRef:
    """A handler imported on first use; its `__signature__` is the handler's, annotations resolved."""

    def __init__(self, reference: str):
        self.reference = reference
        self._target: Any = None

    @property
    def target(self) -> Any:
        if self._target is None:
            self._target = import_handler(self.reference)
        return self._target

    @property
    def __signature__(self) -> inspect.Signature:
        # eval_str: handler modules often use `from __future__ import annotations`, and FastAPI
        # would otherwise evaluate the strings in the wrapper's module, where the names are missing.
        return inspect.signature(self.target, eval_str=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.target(*args, **kwargs)

    def __repr__(self) -> str:
        return f"HandlerRef({self.reference!r})"


def expose_signature(wrapper: Callable[..., Any], handler: HandlerRef) -> None:
    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
