"""Resolve a handler reference, "package.module:attr", to the object it names.

One definition for every place a handler runs: the Modal container (`engine.modal_backend.handlers`
imports it on first call) and `mdeploy run` (`engine.local.call`), so a reference that runs on this
machine resolves the same way in the cloud. Standard library only: server and function containers
import it, and their images owe us nothing beyond Python.
"""

from __future__ import annotations

import importlib
from typing import Any


class HandlerImportError(ImportError):
    """The handler reference does not resolve; the message names the reference.

    `module_name` and `attr` are the reference's two halves; `import_failure` is the error that
    stopped the module importing, or None when it was not imported (a malformed reference, or a
    module without `attr`). Callers that word their own message read these rather than the text.
    """

    def __init__(
        self, message: str, *, module_name: str = "", attr: str = "", import_failure: ImportError | None = None
    ):
        super().__init__(message)
        self.module_name = module_name
        self.attr = attr
        self.import_failure = import_failure


def split_reference(reference: str) -> tuple[str, str]:
    module, sep, attr = reference.partition(":")
    if not sep or not module or not attr:
        raise HandlerImportError(f"handler {reference!r} is not of the form 'package.module:attr'")
    return module, attr


def import_handler(reference: str) -> Any:
    module_name, attr = split_reference(reference)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerImportError(
            f"handler {reference!r}: cannot import {module_name!r}: {exc}",
            module_name=module_name,
            attr=attr,
            import_failure=exc,
        ) from exc
    try:
        return getattr(module, attr)
    except AttributeError:
        raise HandlerImportError(
            f"handler {reference!r}: module {module_name!r} has no {attr!r}", module_name=module_name, attr=attr
        ) from None
