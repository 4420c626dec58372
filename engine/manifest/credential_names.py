"""Environment variable names that hold credentials: a manifest may not read them with `${NAME}`.

A `${AWS_SECRET_ACCESS_KEY}` in a manifest puts a credential into the plan, the Blueprint and
every log that prints them; the right place for it is a Modal secret, which the container reads at
start-up and no mdeploy command ever sees. So a reference whose NAME matches a rule below is
refused at load time, whether the variable is set on this machine or not (the same manifest must
fail on a laptop without the variable and in CI with it).

Names are compared upper-cased and split into words at `_`; each rule says what it looks for, and
the message quotes that phrase. Kept as one table so the rule set reads (and is tested) in one place.
"""

from __future__ import annotations

import re

# (what the name looks like, pattern over the upper-cased name). First match wins.
CREDENTIAL_NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    # Modal's own credentials (token id and secret) and its proxy-auth tokens.
    ("a Modal token", re.compile(r"^MODAL_(?:TOKEN|PROXY)_")),
    # Cloud credentials whose names carry none of the words below.
    (
        "a cloud credential",
        re.compile(r"^(?:AZURE_STORAGE_CONNECTION_STRING|AZURE_STORAGE_SAS_TOKEN|AWS_SECURITY_TOKEN)$"),
    ),
    # HF_TOKEN, GITHUB_TOKEN, AWS_SESSION_TOKEN, ACCESSTOKEN; not TOKENIZER or MAX_TOKENS.
    ("a token", re.compile(r"(?:^|_)[A-Z0-9]*TOKEN(?:_|$)")),
    # AZURE_CLIENT_SECRET, CLIENT_SECRET_ID, SECRETKEY.
    ("a secret", re.compile(r"SECRET")),
    # DB_PASSWORD, PASSWD, DB_PASS, PASSPHRASE; not PWD (the shell's working directory).
    ("a password", re.compile(r"PASSWORD|PASSWD|PASSPHRASE|(?:^|_)PASS(?:_|$)")),
    # GOOGLE_APPLICATION_CREDENTIALS, AWS_CREDENTIAL_FILE.
    ("a credential", re.compile(r"CREDENTIAL")),
    # SSH_PRIVATE_KEY, PRIVATE_PEM.
    ("a private key", re.compile(r"PRIVATE")),
    # API_KEY, APIKEY, AWS_ACCESS_KEY_ID, OPENAI_API_KEY, KEY: KEY as a word or a word's end.
    ("a key", re.compile(r"(?:^|_)[A-Z0-9]*KEYS?(?:_|$)")),
    # BASIC_AUTH, AUTH_HEADER, OAUTH_CLIENT_ID.
    ("an authorization", re.compile(r"(?:^|_)[A-Z0-9]*AUTH(?:_|$)")),
    # DATABASE_CONNECTION_STRING, SENTRY_DSN: both usually embed a password or key.
    ("a connection string", re.compile(r"CONNECTION_STRING|CONN_STR|(?:^|_)DSN(?:_|$)")),
    # SESSION_COOKIE, COOKIE_SIGNING.
    ("a cookie", re.compile(r"(?:^|_)COOKIES?(?:_|$)")),
)

HINT = (
    "put it in a Modal secret instead: `modal secret create NAME {var}=...`, list NAME under "
    "`secrets`, and read {var} from the environment in the container"
)


def credential_kind(name: str) -> str | None:
    """What the variable name looks like ("a token", "a key", ...), or None for an ordinary name."""
    upper = name.upper()
    for what, pattern in CREDENTIAL_NAME_RULES:
        if pattern.search(upper):
            return what
    return None
