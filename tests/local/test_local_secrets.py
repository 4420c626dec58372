import pytest

from engine.errors import UserError
from engine.local.secrets import secret_arguments, secret_values


def test_required_keys_come_from_the_environment_first(bp):
    blueprint = bp.blueprint(secrets=[bp.SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",))])
    values = secret_values(blueprint, ("hf",), {"HF_TOKEN": "env"}, {"HF_TOKEN": "file"}, owner="service 'chat'")
    assert values == {"HF_TOKEN": "env"}


def test_required_keys_fall_back_to_dotenv(bp):
    blueprint = bp.blueprint(secrets=[bp.SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",))])
    assert secret_values(blueprint, ("hf",), {}, {"HF_TOKEN": "file"}, owner="x") == {"HF_TOKEN": "file"}


def test_missing_key_names_secret_and_key(bp):
    blueprint = bp.blueprint(secrets=[bp.SecretSpec("hf", "huggingface-secret", ("HF_TOKEN",))])
    with pytest.raises(UserError) as info:
        secret_values(blueprint, ("hf",), {}, {}, owner="service 'chat'")
    message = info.value.message
    assert "secret 'hf'" in message and "'huggingface-secret'" in message and "HF_TOKEN" in message


def test_secret_args_are_appended_from_the_environment(bp):
    args = secret_arguments((bp.SecretArg("--api-key", "API_KEY"),), {"API_KEY": "k"}, owner="x")
    assert args == ["--api-key", "k"]


def test_missing_secret_arg_names_the_variable_not_a_value(bp):
    with pytest.raises(UserError) as info:
        secret_arguments((bp.SecretArg("--api-key", "API_KEY"),), {}, owner="service 'chat'")
    assert "API_KEY" in info.value.message and "--api-key" in info.value.message
