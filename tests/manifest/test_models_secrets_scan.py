"""The secret scan: token shapes anywhere, random strings in env maps only, never the value."""

from __future__ import annotations

import pytest

from engine.manifest.models.secrets_scan import scan_for_secrets, secret_kind, shannon_entropy

TOKENS = {
    "hugging face": "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123",
    "openai-style": "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0",
    "aws": "AKIA" + "ABCDEFGHIJKLMNOP",
    "github classic": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "github fine-grained": "github_pat_" + "11ABCDEFG0123456789_abcdefghij",
    "slack": "xoxb-" + "123456789012-abcdefghij",
}


@pytest.mark.parametrize("name", sorted(TOKENS))
def test_token_shapes_are_found_anywhere(name):
    data = {"services": {"chat": {"model": {"served_name": TOKENS[name]}}}}
    findings = scan_for_secrets(data)
    assert [f.path for f in findings] == [("services", "chat", "model", "served_name")]
    assert TOKENS[name] not in findings[0].message + (findings[0].hint or "")


def test_tokens_in_lists_are_found():
    assert [f.path for f in scan_for_secrets({"images": {"b": {"run": ["echo ok", "login " + TOKENS["aws"]]}}})] == [("images", "b", "run", 1)]


def test_random_string_is_a_secret_only_in_env():
    randomish = "q8Zr2LmX7vN4pT1kW9sB6yH3dF5gJ0aE"
    assert secret_kind(randomish, in_env=True) and not secret_kind(randomish)
    findings = scan_for_secrets({"defaults": {"env": {"KEY": randomish}, "image": randomish}})
    assert [f.path for f in findings] == [("defaults", "env", "KEY")]


@pytest.mark.parametrize(
    "value",
    ["0e9e39f249a16976918f6564b8830bc894c89659", "meta-llama/Llama-3.1-8B-Instruct", "https://example.com/some/long/path/x", "INFO", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
)
def test_ordinary_env_values_are_not_secrets(value):
    assert secret_kind(value, in_env=True) is None


def test_entropy_is_bits_per_character():
    assert shannon_entropy("aaaa") == 0 and shannon_entropy("abcd") == 2
