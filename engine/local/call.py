"""Call a function's handler on this machine, as `mdeploy run` does.

Arguments are JSON, as Modal passes them over the wire: positional `VALUE`s, keyword `NAME=VALUE`.
A bare word is not JSON; the error shows how to quote it, rather than guessing whether `1` meant a
number or a string.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import traceback
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from engine.blueprint.model import Blueprint, FunctionSpec
from engine.errors import UserError
from engine.runtime.handler_import import HandlerImportError
from engine.runtime.handler_import import import_handler as _resolve


def find_function(blueprint: Blueprint, name: str) -> FunctionSpec:
    for function in blueprint.functions:
        if function.key == name and function.cls is not None:
            # Not yet: running a class here would need its hooks and a method to call.
            raise UserError(
                f"{name!r} is a class (kind: cls): `mdeploy run` runs functions only, not a class's methods"
            )
        if function.key == name:
            return function
    if any(server.key == name for server in blueprint.servers):
        raise UserError(f"{name!r} is a service: run it with `mdeploy serve`")
    import difflib

    keys = [f.key for f in blueprint.functions]
    close = difflib.get_close_matches(name, keys, n=1, cutoff=0.6)
    guess = f"did you mean {close[0]!r}? " if close else ""
    available = ", ".join(keys) or "none"
    raise UserError(f"{blueprint.source}: no function {name!r} ({guess}functions: {available})")


def parse_call_arguments(tokens: list[str]) -> tuple[list[Any], dict[str, Any]]:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for position, token in enumerate(tokens, start=1):
        name, sep, text = token.partition("=")
        is_keyword = bool(sep) and name.isidentifier()
        value = _json_value(text, position, name) if is_keyword else _json_value(token, position)
        if is_keyword:
            if name in kwargs:
                raise UserError(f"argument {position}: {name} is given twice")
            kwargs[name] = value
        elif kwargs:
            raise UserError(f"argument {position}: a positional value cannot follow NAME=VALUE arguments")
        else:
            args.append(value)
    return args, kwargs


def import_handler(reference: str) -> Callable[..., Any]:
    """The handler, resolved as the container resolves it; a reference that does not resolve is a UserError."""
    try:
        handler = _resolve(reference)
    except HandlerImportError as exc:
        if exc.import_failure is not None:
            raise UserError(
                f"cannot import {exc.module_name!r} for handler {reference!r}: {exc.import_failure}"
            ) from None
        if exc.attr:
            raise UserError(f"module {exc.module_name!r} has no {exc.attr!r} (handler {reference!r})") from None
        raise UserError(str(exc)) from None  # malformed: the manifest's validation normally stops it first
    if not callable(handler):
        raise UserError(
            f"handler {reference!r} is not callable: it names a value of type {type(handler).__name__}; "
            f"point it at a function"
        )
    checked: Callable[..., Any] = handler  # callable() above; the import itself is untyped
    return checked


def call_handler(handler: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Call it; a coroutine function runs on a fresh event loop, as Modal runs async handlers."""
    try:
        inspect.signature(handler).bind(*args, **kwargs)
    except TypeError as exc:
        raise UserError(f"arguments do not fit {getattr(handler, '__name__', 'the handler')}: {exc}") from None
    result = handler(*args, **kwargs)
    if inspect.isawaitable(result):
        result = asyncio.run(_await(result))
    return result


def result_json(result: Any, reference: str, indent: int | None = 2) -> str:
    """The result as JSON (one line with `indent` None); `reference` names the handler in the
    error when it is not JSON."""
    try:
        # allow_nan=False: json.dumps would print NaN/Infinity, which no JSON parser reads back.
        return json.dumps(result, indent=indent, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        if "Out of range float" in str(exc):
            raise UserError(
                f"{reference} returned NaN or Infinity, which JSON cannot hold: return None or a string instead"
            ) from None
        raise UserError(f"the result of {reference} ({type(result).__name__}) is not JSON: {exc}") from None
    except TypeError as exc:
        raise UserError(f"the result of {reference} ({type(result).__name__}) is not JSON: {exc}") from None


def user_traceback(exc: BaseException) -> str:
    """The traceback of an exception the handler raised, from the handler's own frame on.

    The frames down to `call_handler` (the CLI, and asyncio's loop for an async handler) are how
    we called the handler, not where it failed; they would bury the user's own frames.
    """
    summary = traceback.TracebackException.from_exception(exc)
    frames = list(summary.stack)
    calls = [index for index, frame in enumerate(frames) if _is_this_module(frame.filename)]
    if calls:
        summary.stack = traceback.StackSummary.from_list(frames[calls[-1] + 1 :])
    return "".join(summary.format())


@contextmanager
def environment(env: Mapping[str, str]) -> Iterator[None]:
    """Run the handler in-process with the function's environment, restored afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _is_this_module(filename: str) -> bool:
    return os.path.realpath(filename) == os.path.realpath(__file__)


def _json_value(text: str, position: int, keyword: str | None = None) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        if keyword is not None:  # NAME=VALUE was written: its VALUE is what is not JSON
            raise UserError(
                f"argument {position}: the value of {keyword}= is not JSON: write a string with quotes, "
                f"e.g. {keyword}='\"{text[:20]}\"'"
            ) from None
        raise UserError(
            f"argument {position} is not JSON: write a string with quotes, e.g. '\"{text[:20]}\"', "
            f"or a keyword as NAME=VALUE"
        ) from None
