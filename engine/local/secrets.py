"""Secrets for a local run: the values Modal would inject, taken from this machine.

A manifest names Modal secrets and the keys each must hold (`required_keys`). Locally those keys
come from the process environment, else from a `.env` file; a missing key is an error that names
the secret and the key (never a value). A secret without declared keys cannot be checked: the
process simply inherits the environment, as it does anyway.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.blueprint.model import Blueprint, SecretArg
from engine.errors import UserError
from engine.runtime.secret_args import MissingSecretArguments, secret_argv


def secret_values(
    blueprint: Blueprint,
    secret_keys: tuple[str, ...],
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    *,
    owner: str,
) -> dict[str, str]:
    """The required keys of the named secrets, from `environ` first, then `dotenv`."""
    by_key = {secret.key: secret for secret in blueprint.secrets}
    values: dict[str, str] = {}
    for key in secret_keys:
        secret = by_key.get(key)
        if secret is None:  # the planner resolved references; this is a malformed Blueprint
            raise UserError(f"{owner} uses secret {key!r}, which the Blueprint does not define")
        for name in secret.required_keys:
            value = environ.get(name, dotenv.get(name))
            if value is None:
                raise UserError(
                    f"{owner} needs secret {secret.key!r} (Modal secret {secret.name!r}) with key {name}: "
                    f"set {name} in the environment or in .env to run it locally"
                )
            values[name] = value
    return values


def secret_arguments(secret_args: tuple[SecretArg, ...], env: Mapping[str, str], *, owner: str) -> list[str]:
    """`flag value` pairs whose values come from the environment at launch, never from the Blueprint
    (read as the container reads them: `engine.runtime.secret_args`)."""
    try:
        return secret_argv(secret_args, env)
    except MissingSecretArguments as exc:
        arg = exc.missing[0]
        raise UserError(
            f"{owner} passes {arg.flag} from environment variable {arg.env}, which is not set or empty: "
            f"set it in the environment or in .env"
        ) from None
