"""Build a Blueprint's app offline, exactly as the deploy does, and collect what Modal's client says.

`build_app` (the deploy's own builder) runs into a scratch module whose file is engine/entry.py,
as `modal deploy engine/entry.py` imports it. Declaring Modal objects does no I/O (they are lazy
until hydrated), so no token and no network are needed; what Modal checks at declaration comes
out as it would at deploy: an exception (InvalidError, DeprecationError, and the TypeError and
ValueError its code raises) or a warning (`warnings`, and the `modal-client` logger's warnings).
Each is put at a Blueprint path through the mark of the call that raised it and that call's
entry in `calls.ARGUMENT_FIELDS`: the field named by the first argument name Modal's message
mentions, else the call's whole field. So a rule a new Modal release adds is reported, located,
without a line of ours.

An exception stops the build; the function or server it came from is left out and the rest is
built again, so every object's first refusal is reported in one run.

Never on the container's import path (engine/entry.py does not import it).
"""

from __future__ import annotations

import itertools
import logging
import re
import sys
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import modal
import modal.exception

from engine.blueprint.model import Blueprint, ImageSpec
from engine.blueprint.origins import BlueprintPath
from engine.modal_backend.app import build_app
from engine.modal_backend.calls import ARGUMENT_FIELDS, current_call
from engine.modal_backend.images import ImageContext, build_image

ENTRY_FILE = Path(__file__).resolve().parent.parent / "entry.py"
# Modules whose TypeError or ValueError is Modal's refusal (protobuf: a value its message type
# cannot hold); the same exception types raised anywhere else are our bugs and propagate.
_MODAL_MODULES = ("modal", "modal_proto", "synchronicity", "google")
_scratch = itertools.count()


@dataclass(frozen=True)
class ModalComplaint:
    """One thing Modal's client refused or warned about: at which Blueprint path, in its words."""

    path: BlueprintPath  # the Blueprint field behind it (see calls.ARGUMENT_FIELDS)
    message: str  # Modal's own message, whitespace folded onto one line
    kind: str  # the exception or warning class: "InvalidError", "DeprecationError", ...
    severity: str  # "error" (the deploy would stop) or "warning"


def offline_complaints(
    blueprint: Blueprint, env_values: Mapping[tuple[str, str], Mapping[str, str]] | None = None
) -> list[ModalComplaint]:
    """Every refusal and warning of Modal's client while building `blueprint`'s app, in order."""
    found: dict[tuple[BlueprintPath, str], ModalComplaint] = {}
    remaining = blueprint
    for _attempt in range(len(blueprint.functions) + len(blueprint.servers) + 1):
        warned, refusal = _build_once(remaining, env_values)
        for complaint in warned:
            found.setdefault((complaint.path, complaint.message), complaint)
        if refusal is None:
            break
        found.setdefault((refusal.path, refusal.message), refusal)
        without = _without_object(remaining, refusal.path)
        if without is None:
            break
        remaining = without
    return list(found.values())


def _build_once(blueprint: Blueprint, env_values: Any) -> tuple[list[ModalComplaint], ModalComplaint | None]:
    warned: list[ModalComplaint] = []
    name = f"mdeploy_offline_entry_{next(_scratch)}"
    module = types.ModuleType(name)
    module.__file__ = str(ENTRY_FILE)
    sys.modules[name] = module
    handler = _WarningRecords(warned)
    modal_logger = logging.getLogger("modal-client")
    modal_logger.addHandler(handler)
    registered = _registered_apps(blueprint.app)
    already = len(registered)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = handler.show_warning
            build_app(
                blueprint,
                module.__dict__,
                name,
                in_container=False,
                env_values=env_values,
                import_build_functions=False,
                image_builder=lambda spec, context: _IMAGES.build(spec, context, warned),
            )
    except Exception as exc:  # noqa: BLE001 - sorted below: Modal's refusals are kept, the rest re-raised
        mark = getattr(exc, "mdeploy_call", None)
        if mark is None or not _is_modal_refusal(exc):
            raise
        return warned, _complaint(mark, exc, type(exc).__name__, "error")
    finally:
        modal_logger.removeHandler(handler)
        sys.modules.pop(name, None)
        # modal.App registers every App it makes, for the container to find by name; a scratch
        # app left there would keep its whole object graph alive (validate builds hundreds) and
        # could be found instead of the deploy's own app of the same name.
        del registered[already:]
    return warned, None


def _registered_apps(name: str) -> list[Any]:
    """Modal's registry of the Apps made under `name` (private: `_App._all_apps`); a throwaway
    list where a Modal release no longer has it."""
    registry = getattr(modal.app._App, "_all_apps", None)
    return registry.setdefault(name, []) if isinstance(registry, dict) else []


class _ImageMemo:
    """modal.Image objects already built offline, by everything their construction reads.

    Repositories repeat a handful of image recipes across hundreds of manifests; Modal's image
    constructors are pure (lazy objects: no I/O, no clock, nothing read from the environment),
    so an image spec built once without a word from Modal gives the same object, and the same
    silence, every time. The key is the spec's whole repr: every field (a new one included),
    the image's key too, since a complaint's location names it. Only a silent build is kept: one
    that warned is built again each time, so its warning is reported for every manifest, and one
    that raised is never stored. Images that read the project's files (`add_local_*`) or name
    the app's secrets (`run_function`) depend on more than their spec: they are always built.
    """

    LIMIT = 512

    def __init__(self) -> None:
        self._built: dict[str, modal.Image] = {}
        self.constructions = 0  # images actually built (a test counts them)

    def build(self, spec: ImageSpec, context: ImageContext | None, warned: list[ModalComplaint]) -> modal.Image:
        if any(step.op in _READS_BEYOND_THE_SPEC for step in spec.steps):
            self.constructions += 1
            return build_image(spec, context)
        key = repr(spec)
        image = self._built.get(key)
        if image is not None:
            return image
        before = len(warned)
        self.constructions += 1
        image = build_image(spec, context)
        if len(warned) == before:
            if len(self._built) >= self.LIMIT:
                self._built.clear()
            self._built[key] = image
        return image


_READS_BEYOND_THE_SPEC = frozenset({"add_local_file", "add_local_dir", "run_function"})
_IMAGES = _ImageMemo()


class _WarningRecords(logging.Handler):
    """Collects `warnings.warn` calls and the modal-client logger's warnings, with the call running."""

    def __init__(self, into: list[ModalComplaint]):
        super().__init__(level=logging.WARNING)
        self.into = into

    def show_warning(
        self, message: Any, category: type, filename: str, lineno: int, file: Any = None, line: Any = None
    ) -> None:
        # A ResourceWarning is the garbage collector finding something unclosed (an asyncio
        # transport of an earlier client, say) while the build runs: not Modal judging the app.
        if issubclass(category, ResourceWarning):
            return
        self.into.append(_complaint(current_call(), message, category.__name__, "warning"))

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(_complaint(current_call(), record.getMessage(), "warning", "warning"))


def _is_modal_refusal(exc: BaseException) -> bool:
    if isinstance(exc, (modal.exception.Error, modal.exception.DeprecationError)):
        return True
    if isinstance(exc, (TypeError, ValueError)):
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
        return module.split(".")[0] in _MODAL_MODULES
    return False


def _complaint(mark: tuple[BlueprintPath, str] | None, said: Any, kind: str, severity: str) -> ModalComplaint:
    message = " ".join(str(said).split())
    at, call = mark if mark is not None else ((), "App")
    return ModalComplaint(path=(*at, *field_named(call, message)), message=message, kind=kind, severity=severity)


def field_named(call: str, message: str) -> BlueprintPath:
    """The field (relative to the call's object) of the first argument name `message` mentions,
    else the call's whole field."""
    entry = ARGUMENT_FIELDS[call]
    first: tuple[int, BlueprintPath] | None = None
    for name, field in entry["fields"].items():
        match = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message)
        if match and (first is None or match.start() < first[0]):
            first = (match.start(), field)
    return first[1] if first else entry["whole"]


def _without_object(blueprint: Blueprint, path: BlueprintPath) -> Blueprint | None:
    """`blueprint` without the function or server at `path`; None when the refusal is the app's,
    an image's or a named object's (every function could depend on it)."""
    if len(path) < 2 or path[0] not in ("functions", "servers"):
        return None
    if path[0] == "functions":
        return replace(blueprint, functions=tuple(f for f in blueprint.functions if f.key != path[1]))
    return replace(blueprint, servers=tuple(s for s in blueprint.servers if s.key != path[1]))
