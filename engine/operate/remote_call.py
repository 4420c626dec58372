"""`mdeploy run --remote`: call a function of the deployed app through Modal, print its results.

What `modal run` does for a function, but for the app as deployed: the function is looked up by
its Modal names (`modal.Function.from_name(app, name, environment_name=...)`), never rebuilt from
the manifest, so the call runs the code, image and settings the deploy put there. `--map FILE`
sends one input per line of a JSON Lines file through `Function.map`, results in input order.

Modal is imported only here, when a remote call is made; every Modal failure the user can fix (no
such app or function in that environment, no credentials) becomes a UserError.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from engine.errors import UserError


def read_map_inputs(path: Path) -> list[Any]:
    """One JSON value per non-blank line: each is one input, the function's first argument.
    A line that is not JSON is an error at `file:line`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the inputs file {path}: {exc}") from None
    inputs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            inputs.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{path}:{number}:{exc.colno}: not a JSON value: {exc.msg} "
                '(each line is one input, e.g. 3, "text" or {"k": 1})'
            ) from None
    if not inputs:
        raise UserError(f"{path}: no inputs (one JSON value per line)")
    return inputs


def lookup(app: str, name: str, environment: str | None) -> Any:
    import modal

    return modal.Function.from_name(app, name, environment_name=environment)


def call_remote(app: str, name: str, environment: str | None, args: list[Any], kwargs: dict[str, Any]) -> Any:
    function = lookup(app, name, environment)
    with _modal_errors(app, name, environment):
        return function.remote(*args, **kwargs)


def map_remote(app: str, name: str, environment: str | None, inputs: list[Any]) -> Iterator[Any]:
    function = lookup(app, name, environment)
    with _modal_errors(app, name, environment):
        yield from function.map(inputs, order_outputs=True)


class _modal_errors:
    """Modal's errors a user can act on, as one line; the remote function's own failure too (its
    traceback is in the app's logs: `mdeploy logs`)."""

    def __init__(self, app: str, name: str, environment: str | None):
        self.where = f"function {name!r} of app {app!r}" + (f" in environment {environment!r}" if environment else "")

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, exc: BaseException | None, _tb: Any) -> Literal[False]:
        if exc is None or isinstance(exc, (UserError, KeyboardInterrupt)):
            return False
        from modal.exception import AuthError, NotFoundError

        if isinstance(exc, NotFoundError):
            raise UserError(f"{self.where} is not deployed: {exc} (deploy it first: `mdeploy deploy`)") from None
        if isinstance(exc, AuthError):
            raise UserError(f"Modal refused the credentials: {exc}") from None
        raise UserError(f"{self.where} raised {type(exc).__name__}: {exc} (its logs: `mdeploy logs`)") from None
