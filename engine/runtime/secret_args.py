"""Secret arguments of an engine's command: `flag value` pairs whose values are read from the
environment at launch, never from the Blueprint (which holds only the variable's name).

One definition for both places an engine starts: the Modal container
(`engine.modal_backend.server_runtime`) and `mdeploy serve` (`engine.local.secrets`), so a value
that starts the engine here starts it in the cloud. An empty variable counts as missing: an
engine given an empty API key would start and then refuse every request. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class MissingSecretArguments(LookupError):
    """Some secret arguments' variables are unset or empty; `missing` lists those arguments."""

    def __init__(self, missing: Sequence[Any]):
        super().__init__(", ".join(f"{arg.flag} needs ${arg.env}" for arg in missing))
        self.missing = tuple(missing)


def secret_argv(secret_args: Sequence[Any], environ: Mapping[str, str]) -> list[str]:
    """`flag value` for each `SecretArg` (its `.flag`, its `.env` variable), in order."""
    missing = [arg for arg in secret_args if not environ.get(arg.env)]
    if missing:
        raise MissingSecretArguments(missing)
    return [part for arg in secret_args for part in (arg.flag, environ[arg.env])]
