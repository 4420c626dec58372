"""Secret arguments are read from the environment one way, in the container and in `mdeploy serve`."""

from __future__ import annotations

import pytest

from engine.blueprint.model import SecretArg
from engine.errors import UserError
from engine.local.secrets import secret_arguments
from engine.modal_backend.server_runtime import ServerStartError, resolve_argv
from engine.runtime.secret_args import MissingSecretArguments, secret_argv

ARGS = (SecretArg("--api-key", "API_KEY"), SecretArg("--hf-token", "HF_TOKEN"))


def test_values_follow_their_flags_in_order():
    assert secret_argv(ARGS, {"HF_TOKEN": "h", "API_KEY": "a"}) == ["--api-key", "a", "--hf-token", "h"]


def test_an_empty_variable_counts_as_missing():
    with pytest.raises(MissingSecretArguments) as info:
        secret_argv(ARGS, {"API_KEY": "", "HF_TOKEN": "h"})
    assert [arg.env for arg in info.value.missing] == ["API_KEY"]


@pytest.mark.parametrize(
    "environ", [{"API_KEY": "a", "HF_TOKEN": "h"}, {"API_KEY": "", "HF_TOKEN": "h"}, {"HF_TOKEN": "h"}]
)
def test_local_runner_and_container_accept_and_refuse_the_same_environments(environ):
    try:
        in_container = resolve_argv(["serve"], ARGS, environ)[1:]
    except ServerStartError:
        in_container = None
    try:
        local = secret_arguments(ARGS, environ, owner="service 'chat'")
    except UserError:
        local = None
    assert local == in_container
