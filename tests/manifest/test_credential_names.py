"""The credential-name table: one test per rule, a name that must match and a near miss that must not."""

from __future__ import annotations

import pytest

from engine.manifest.credential_names import CREDENTIAL_NAME_RULES, credential_kind

# rule -> (names it must refuse, ordinary names that look close but must pass)
SHAPES = {
    "a Modal token": (
        ["MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "modal_proxy_key"],
        ["MODAL_ENVIRONMENT", "MODAL_PROFILE"],
    ),
    "a cloud credential": (["AZURE_STORAGE_CONNECTION_STRING", "AWS_SECURITY_TOKEN"], ["AZURE_REGION", "AWS_REGION"]),
    "a token": (
        ["HF_TOKEN", "GITHUB_TOKEN", "AWS_SESSION_TOKEN", "ACCESSTOKEN", "TOKEN"],
        ["TOKENIZER", "MAX_TOKENS", "TOKENIZERS_PARALLELISM"],
    ),
    "a secret": (["AZURE_CLIENT_SECRET", "SECRETKEY", "APP_SECRET_NAME"], ["SECTION", "SECRECY_LEVEL"]),
    "a password": (["DB_PASSWORD", "PASSWD", "REDIS_PASS", "GPG_PASSPHRASE"], ["PWD", "PASSES", "BYPASS_CACHE"]),
    "a credential": (["GOOGLE_APPLICATION_CREDENTIALS", "AWS_CREDENTIAL_FILE"], ["CREDIT_LIMIT"]),
    "a private key": (["SSH_PRIVATE", "PRIVATE_PEM"], ["PRIVACY_MODE"]),
    "a key": (
        ["API_KEY", "OPENAI_API_KEY", "APIKEY", "AWS_ACCESS_KEY_ID", "KEY", "STRIPE_KEYS"],
        ["KEYBOARD", "KEYCLOAK_URL", "MONKEYPATCH"],
    ),
    "an authorization": (["BASIC_AUTH", "AUTH_HEADER", "OAUTH_CLIENT_ID"], ["AUTHOR", "AUTHORS_FILE"]),
    "a connection string": (
        ["DATABASE_CONNECTION_STRING", "SENTRY_DSN", "PG_CONN_STR"],
        ["CONNECTION_TIMEOUT", "DSNX"],
    ),
    "a cookie": (["SESSION_COOKIE", "COOKIES"], ["COOKBOOK_PATH"]),
}


def test_every_rule_has_shapes_here():
    assert sorted(SHAPES) == sorted(what for what, _ in CREDENTIAL_NAME_RULES)


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_each_rule_refuses_its_names(what):
    refused, _ = SHAPES[what]
    assert [credential_kind(name) for name in refused] == [what] * len(refused)


@pytest.mark.parametrize("what", sorted(SHAPES))
def test_each_rule_lets_near_misses_pass(what):
    _, passed = SHAPES[what]
    assert [(name, credential_kind(name)) for name in passed] == [(name, None) for name in passed]


@pytest.mark.parametrize(
    "name", ["GPU", "MODEL", "PORT", "STAGE", "MDEPLOY_LOCAL_MODEL", "HOME", "LOG_LEVEL", "REGION"]
)
def test_ordinary_names_pass(name):
    assert credential_kind(name) is None
