"""Values that look like secrets, found anywhere in a manifest and reported without the value.

Known token shapes (the `TOKEN_RULES` table: the common rules of a secret scanner such as
gitleaks — Hugging Face, OpenAI, Anthropic, AWS, Modal, GitHub, GitLab, Slack, Stripe, Google,
npm, PyPI, SendGrid, Twilio, Azure, private key blocks, JWTs, URLs with a password) are refused in
any string; long random-looking strings are refused in `env` maps, where a pasted key usually ends
up. The message never contains the value: problems are printed and logged as they are.

A 40-hex string is a git commit (model revisions are pinned everywhere), never a credential here.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from engine.manifest.models.base import Finding
from engine.manifest.source import KeyPath


@dataclass(frozen=True)
class TokenRule:
    """One shape: `pattern` finds candidates; `accept`, when given, must also hold for a match."""

    what: str
    pattern: re.Pattern[str]
    accept: Callable[[str], bool] | None = None
    # Literal text every match contains: a string holding none of them is skipped without running
    # the pattern (a scan of a 1 MiB value stays in milliseconds per rule).
    needles: tuple[str, ...] = ()

    def matches(self, text: str) -> Iterator[re.Match[str]]:
        if self.needles and not any(needle in text for needle in self.needles):
            return
        for match in self.pattern.finditer(text):
            if self.accept is None or self.accept(match.group(0)):
                yield match


def shannon_entropy(text: str) -> float:
    """Bits per character of `text`'s character distribution."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _mixed_random(text: str) -> bool:
    """Upper and lower case letters and digits, spread like random text (not a word or path)."""
    return (
        sum(c.isupper() for c in text) >= 3
        and sum(c.islower() for c in text) >= 3
        and sum(c.isdigit() for c in text) >= 2
        and shannon_entropy(text) >= 4.3
    )


def _has_digit_and_letter(text: str) -> bool:
    body = text.split("-", 1)[-1]
    return any(c.isdigit() for c in body) and any(c.isalpha() for c in body)


# Left and right edges: a token is not the middle of a longer word.
_L = r"(?<![A-Za-z0-9_])"
_R = r"(?![A-Za-z0-9_])"

TOKEN_RULES: tuple[TokenRule, ...] = (
    TokenRule(
        "a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), needles=("PRIVATE KEY",)
    ),
    TokenRule("a Hugging Face token", re.compile(_L + r"(?:hf|api_org)_[A-Za-z0-9]{30,}"), needles=("hf_", "api_org_")),
    TokenRule(
        "an Anthropic API key", re.compile(r"sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{20,}"), needles=("sk-ant-",)
    ),
    TokenRule("an OpenAI API key", re.compile(r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}"), needles=("sk-",)),
    TokenRule("an API key (sk-...)", re.compile(r"sk-[A-Za-z0-9_-]{20,}"), needles=("sk-",)),
    TokenRule(
        "a Stripe key",
        re.compile(_L + r"(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{24,}"),
        needles=("_live_", "_test_", "whsec_"),
    ),
    TokenRule(
        "an AWS access key id",
        re.compile(_L + r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}" + _R),
        needles=("AKIA", "ASIA", "ABIA", "ACCA"),
    ),
    # 40 characters of base64 standing alone, mixed like random text ("by shape"); see also
    # `_AWS_SECRET_NEAR_NAME` for the same length under an AWS key name.
    TokenRule(
        "an AWS secret access key",
        re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"),
        accept=lambda text: not text.startswith("/") and _mixed_random(text),
    ),
    # Modal API tokens (`ak-` id, `as-` secret) and proxy-auth tokens (`wk-`, `ws-`), as the
    # modal CLI documents them (modal/cli/workspace.py).
    TokenRule(
        "a Modal token",
        re.compile(_L + r"(?:ak|as|wk|ws)-[A-Za-z0-9]{20,}" + _R),
        accept=_has_digit_and_letter,
        needles=("ak-", "as-", "wk-", "ws-"),
    ),
    TokenRule(
        "a GitHub token",
        re.compile(_L + r"(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}"),
        needles=("gh", "github_pat_"),
    ),
    TokenRule(
        "a GitLab token", re.compile(_L + r"(?:glpat|gldt|glrt|glptt|glsoat)-[A-Za-z0-9_-]{20,}"), needles=("gl",)
    ),
    TokenRule(
        "a Slack token",
        re.compile(r"xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}"),
        needles=("xox", "xapp-"),
    ),
    TokenRule(
        "a Slack webhook",
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{20,}"),
        needles=("hooks.slack.com",),
    ),
    TokenRule(
        "a Discord webhook",
        re.compile(r"discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_-]{20,}"),
        needles=("/api/webhooks/",),
    ),
    TokenRule("a Google API key", re.compile(_L + r"AIza[0-9A-Za-z_-]{35}" + _R), needles=("AIza",)),
    TokenRule("a Google OAuth client secret", re.compile(_L + r"GOCSPX-[A-Za-z0-9_-]{28}" + _R), needles=("GOCSPX-",)),
    TokenRule("an npm token", re.compile(_L + r"npm_[A-Za-z0-9]{36}" + _R), needles=("npm_",)),
    TokenRule("a PyPI token", re.compile(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}"), needles=("pypi-",)),
    TokenRule("a SendGrid key", re.compile(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), needles=("SG.",)),
    TokenRule("a Twilio API key", re.compile(_L + r"SK[0-9a-fA-F]{32}" + _R), needles=("SK",)),
    TokenRule("a Replicate token", re.compile(_L + r"r8_[A-Za-z0-9]{37}" + _R), needles=("r8_",)),
    TokenRule("a Groq key", re.compile(_L + r"gsk_[A-Za-z0-9]{48,}" + _R), needles=("gsk_",)),
    TokenRule("a Databricks token", re.compile(_L + r"dapi[a-f0-9]{32}(?:-\d)?" + _R), needles=("dapi",)),
    TokenRule("a DigitalOcean token", re.compile(_L + r"do[opr]_v1_[a-f0-9]{64}" + _R), needles=("_v1_",)),
    TokenRule("a HashiCorp Vault token", re.compile(_L + r"hv[sb]\.[A-Za-z0-9_-]{24,}"), needles=("hvs.", "hvb.")),
    TokenRule("a LangSmith key", re.compile(_L + r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}" + _R), needles=("lsv2_",)),
    TokenRule(
        "an Azure connection string key",
        re.compile(r"(?:AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}=*"),
        needles=("AccountKey=", "SharedAccessKey="),
    ),
    TokenRule(
        "a JSON web token",
        re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
        needles=("eyJ",),
    ),
    # scheme://user:password@host — the password part is what must not be in a manifest.
    # The scheme starts at a boundary and is short: an unanchored `[a-z]*://` is quadratic on long text.
    TokenRule(
        "a URL with a password",
        re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^/\s:@]{1,256}:[^/\s@]{1,256}@"),
        needles=("://",),
    ),
)

_AWS_SECRET_NEAR_NAME = re.compile(r"^[A-Za-z0-9/+]{40}$")
MIN_RANDOM_LENGTH = 32
MIN_ENTROPY_BITS_PER_CHAR = 3.5
MESSAGE = "looks like a secret value ({what}); store it in a Modal secret and reference it by name"
HINT = "create it with `modal secret create NAME KEY=...` and list NAME under `secrets`"

_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def _looks_random(text: str) -> bool:
    # A 40-hex string is a git commit (model revisions are pinned in env too), not a credential.
    return (
        len(text) >= MIN_RANDOM_LENGTH
        and not _COMMIT_RE.match(text)
        and not any(c.isspace() or c in "/\\" for c in text)
        and shannon_entropy(text) >= MIN_ENTROPY_BITS_PER_CHAR
    )


# Every rule's needles in one pattern: a string holding none of them (nearly every value of a
# manifest) can match only the rules without needles, so one search replaces a loop over the
# table (a fifth of reading a manifest). Rules keep their order either way.
_ANY_NEEDLE = re.compile("|".join(re.escape(n) for n in sorted({n for r in TOKEN_RULES for n in r.needles})))
_WITHOUT_NEEDLES = tuple(rule for rule in TOKEN_RULES if not rule.needles)


def secret_kind(text: str, *, in_env: bool = False, env_name: str | None = None) -> str | None:
    """What kind of secret `text` looks like, or None. `in_env` also flags random-looking strings;
    `env_name` (the variable an env value is for) lets an AWS secret key be recognised by its name."""
    for rule in TOKEN_RULES if _ANY_NEEDLE.search(text) else _WITHOUT_NEEDLES:
        if next(rule.matches(text), None) is not None:
            return rule.what
    if (
        env_name is not None
        and "AWS" in env_name.upper()
        and _AWS_SECRET_NEAR_NAME.match(text)
        and not _COMMIT_RE.match(text)
    ):
        return "an AWS secret access key"
    if in_env and _looks_random(text):
        return "a long random string"
    return None


REDACTED = "<a secret-looking value>"


def redact(text: str | None) -> str | None:
    """`text` with every known token shape replaced, for messages that quote a value the user wrote
    (`no volume 'hf_...' is declared`): the scan reports the value itself at its position."""
    if text is None:
        return None
    for rule in TOKEN_RULES:
        spans = [m.span() for m in rule.matches(text)]
        for start, end in reversed(spans):
            text = text[:start] + REDACTED + text[end:]
    return text


def looks_secret(value: Any) -> bool:
    """True for a string that must not be echoed in a message (tokens and random strings)."""
    return isinstance(value, str) and secret_kind(value, in_env=True) is not None


def _strings(value: Any, path: KeyPath, env_map: bool = False) -> Iterator[tuple[KeyPath, str, bool]]:
    """(path, text, is a value of an `env` map) for every string below `value`."""
    if isinstance(value, str):
        yield path, value, False
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str):
                yield (*path, key), item, env_map
            else:
                yield from _strings(item, (*path, key), key == "env" and isinstance(item, dict))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def scan_for_secrets(data: Any) -> list[Finding]:
    """A finding for every string value in `data` that looks like a secret."""
    findings = []
    for path, text, in_env in _strings(data, ()):
        what = secret_kind(text, in_env=in_env, env_name=str(path[-1]) if in_env else None)
        if what:
            findings.append(Finding(path, MESSAGE.format(what=what), HINT))
    return findings
