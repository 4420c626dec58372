"""Values that look like secrets, found anywhere in a manifest and reported without the value.

Known token shapes (Hugging Face, OpenAI/Anthropic-style `sk-`, AWS access keys, GitHub, Slack) are
refused in any string; long random-looking strings are refused in `env` maps, where a pasted key
usually ends up. The message never contains the value: problems are printed and logged as they are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Iterator

from engine.manifest.models.base import Finding

_TOKEN_PATTERNS = (
    ("a Hugging Face token", re.compile(r"hf_[A-Za-z0-9]{30,}")),
    ("an API key (sk-...)", re.compile(r"sk-[A-Za-z0-9_-]{20,}")),
    ("an AWS access key id", re.compile(r"(?:AKIA|ASIA)[0-9A-Z]{16}")),
    ("a GitHub token", re.compile(r"(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}")),
    ("a Slack token", re.compile(r"xox[bpas]-[A-Za-z0-9-]{10,}")),
)
MIN_RANDOM_LENGTH = 32
MIN_ENTROPY_BITS_PER_CHAR = 3.5
MESSAGE = "looks like a secret value ({what}); store it in a Modal secret and reference it by name"
HINT = "create it with `modal secret create NAME KEY=...` and list NAME under `secrets`"


def shannon_entropy(text: str) -> float:
    """Bits per character of `text`'s character distribution."""
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def _looks_random(text: str) -> bool:
    # A 40-hex string is a git commit (model revisions are pinned in env too), not a credential.
    return (
        len(text) >= MIN_RANDOM_LENGTH
        and not _COMMIT_RE.match(text)
        and not any(c.isspace() or c in "/\\" for c in text)
        and shannon_entropy(text) >= MIN_ENTROPY_BITS_PER_CHAR
    )


def secret_kind(text: str, *, in_env: bool = False) -> str | None:
    """What kind of secret `text` looks like, or None. `in_env` also flags random-looking strings."""
    for what, pattern in _TOKEN_PATTERNS:
        if pattern.search(text):
            return what
    if in_env and _looks_random(text):
        return "a long random string"
    return None


REDACTED = "<a secret-looking value>"


def redact(text: str | None) -> str | None:
    """`text` with every known token shape replaced, for messages that quote a value the user wrote
    (`no volume 'hf_...' is declared`): the scan reports the value itself at its position."""
    if text is None:
        return None
    for _, pattern in _TOKEN_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def looks_secret(value: Any) -> bool:
    """True for a string that must not be echoed in a message (tokens and random strings)."""
    return isinstance(value, str) and secret_kind(value, in_env=True) is not None


def _strings(value: Any, path: tuple, env_map: bool = False) -> Iterator[tuple[tuple, str, bool]]:
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
        what = secret_kind(text, in_env=in_env)
        if what:
            findings.append(Finding(path, MESSAGE.format(what=what), HINT))
    return findings
