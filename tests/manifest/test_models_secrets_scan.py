"""The secret scan: token shapes anywhere, random strings in env maps only, never the value.

Every rule of `TOKEN_RULES` has a fake token it must find and a near miss it must not: a scanner
that flags model revisions or package pins would be switched off by its users.
"""

from __future__ import annotations

import pytest

from engine.manifest.models.secrets_scan import (
    REDACTED,
    TOKEN_RULES,
    redact,
    scan_for_secrets,
    secret_kind,
    shannon_entropy,
)

# rule -> (a fake token of that shape, a near miss that is no secret). All made up.
SHAPES = {
    "a private key": ("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAfake\n", "-----BEGIN PUBLIC KEY-----"),
    "a Hugging Face token": ("hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123", "hf_transfer==0.1.8"),
    "an Anthropic API key": ("sk-ant-api03-" + "FakeKeyForTests0123456789abcdef", "sk-ant-notes"),
    "an OpenAI API key": ("sk-proj-" + "a1B2c3D4e5F6g7H8i9J0kLmN", "sk-proj-x"),
    "an API key (sk-...)": ("sk-" + "FakeKeyForTestsOnly0002abcdefghijkl", "sk-learn==1.5"),
    "a Stripe key": ("sk_live_" + "FakeStripeKey0123456789ab", "sk_live_demo"),
    "an AWS access key id": ("AKIA" + "FAKE0003TESTONLY", "AKIAFAKE"),
    "an AWS secret access key": (
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYFAKEKEY012",
        "/root/.cache/huggingface/hub/models-abcd",
    ),
    "a Modal token": ("as-" + "0123456789abcdefghijkl", "as-is-and-as-expected-here"),
    "a GitHub token": ("ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", "ghp_short"),
    "a GitLab token": ("glpat-" + "FakeGitLab0123456789ab", "glpat-x"),
    "a Slack token": ("xoxb-" + "123456789012-abcdefghij", "xoxb-1"),
    "a Slack webhook": (
        "https://hooks.slack.com/services/" + "T000FAKE/B000FAKE/FakeWebhookSecret0123",
        "https://hooks.slack.com/",
    ),
    "a Discord webhook": (
        "https://discord.com/api/webhooks/123456789/" + "FakeDiscordToken0123456789",
        "https://discord.com/api/",
    ),
    "a Google API key": ("AIza" + "SyFakeGoogleKey0123456789abcdefghij", "AIzaShort"),
    "a Google OAuth client secret": ("GOCSPX-" + "FakeGoogleSecret0123456789ab", "GOCSPX-short"),
    "an npm token": ("npm_" + "FakeNpmToken0123456789abcdefghijklmn", "npm_config_cache"),
    "a PyPI token": ("pypi-AgEIcHlwaS5vcmc" + "FakePyPiToken" * 5, "pypi-simple"),
    "a SendGrid key": (
        "SG." + "FakeSendGridKey0123456" + "." + "FakeSendGridSecret0123456789abcdefghijklmno",
        "SG.hello",
    ),
    "a Twilio API key": ("SK" + "0123456789abcdef0123456789abcdef", "SKU-0123"),
    "a Replicate token": ("r8_" + "FakeReplicateToken0123456789abcdefghi", "r8_short"),
    "a Groq key": ("gsk_" + "FakeGroqKey0123456789abcdefghijklmnopqrstuvwxyzAB", "gsk_short"),
    "a Databricks token": ("dapi" + "0123456789abcdef0123456789abcdef", "dapi-docs"),
    "a DigitalOcean token": ("dop_v1_" + "0123456789abcdef" * 4, "dop_v1_short"),
    "a HashiCorp Vault token": ("hvs." + "FakeVaultToken0123456789abcd", "hvs.x"),
    "a LangSmith key": ("lsv2_pt_" + "0123456789abcdef0123456789abcdef" + "_0123456789", "lsv2_pt_x"),
    "an Azure connection string key": (
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + "FakeAzureKey0123456789==",
        "AccountName=x",
    ),
    "a JSON web token": ("eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJmYWtlIn0." + "FakeSignature0123", "eyJ.x.y"),
    "a URL with a password": ("postgres://app:hunter2fake@db.internal:5432/app", "https://example.com:8443/path@v1"),
}


def test_every_rule_has_shapes_here():
    assert sorted(SHAPES) == sorted(rule.what for rule in TOKEN_RULES)


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_each_shape_is_found_and_named(what):
    token, _ = SHAPES[what]
    assert secret_kind(token) == what
    assert secret_kind(f"run with {token} here") == what


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_each_near_miss_passes(what):
    _, near_miss = SHAPES[what]
    assert secret_kind(near_miss) is None


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_redact_removes_each_shape_from_a_message(what):
    token, _ = SHAPES[what]
    redacted = redact(f"no volume {token!r} is declared")
    assert token not in redacted and REDACTED in redacted


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_token_shapes_are_found_anywhere_and_never_repeated(what):
    token, _ = SHAPES[what]
    data = {"services": {"chat": {"model": {"served_name": token}}}}
    findings = scan_for_secrets(data)
    assert [f.path for f in findings] == [("services", "chat", "model", "served_name")]
    assert token not in findings[0].message + (findings[0].hint or "")


def test_git_commits_are_never_secrets():
    for commit in ("0e9e39f249a16976918f6564b8830bc894c89659", "a" * 40):
        assert secret_kind(commit, in_env=True) is None


def test_an_aws_secret_key_is_found_by_its_name_in_env():
    plain = "aaaabbbbccccddddeeeeffffgggghhhhiiiijjjj"  # 40 letters: no shape, but an AWS key name
    assert secret_kind(plain) is None
    findings = scan_for_secrets({"defaults": {"env": {"AWS_SECRET_ACCESS_KEY": plain, "NOTE": plain}}})
    assert [f.path for f in findings] == [("defaults", "env", "AWS_SECRET_ACCESS_KEY")]


def test_tokens_in_lists_are_found():
    token = SHAPES["an AWS access key id"][0]
    assert [f.path for f in scan_for_secrets({"images": {"b": {"run": ["echo ok", "login " + token]}}})] == [
        ("images", "b", "run", 1)
    ]


def test_random_string_is_a_secret_only_in_env():
    randomish = "q8Zr2LmX7vN4pT1kW9sB6yH3dF5gJ0aE"
    assert secret_kind(randomish, in_env=True) and not secret_kind(randomish)
    findings = scan_for_secrets({"defaults": {"env": {"KEY": randomish}, "image": randomish}})
    assert [f.path for f in findings] == [("defaults", "env", "KEY")]


@pytest.mark.parametrize(
    "value",
    [
        "0e9e39f249a16976918f6564b8830bc894c89659",
        "meta-llama/Llama-3.1-8B-Instruct",
        "https://example.com/some/long/path/x",
        "INFO",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "https://pypi.nvidia.com",
        "vllm==0.15.0",
        "nvidia/cuda:12.8.0-devel-ubuntu22.04",
        "lmsysorg/sglang:v0.5.9-cu129-amd64-runtime",
    ],
)
def test_ordinary_env_values_are_not_secrets(value):
    assert secret_kind(value, in_env=True) is None


def test_entropy_is_bits_per_character():
    assert shannon_entropy("aaaa") == 0 and shannon_entropy("abcd") == 2
