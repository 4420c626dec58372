"""Is a `pip:` entry a requirement string (PEP 508) that pip and uv will take?

`packaging` (the library pip itself vendors) is the judge. Importing it costs about 30 ms, more
than validating a whole manifest, so the plain forms almost every manifest uses ("vllm==0.11.0",
"fastapi[standard]>=0.115,<1") are recognised by a strict pattern first and only the rest
(markers, URLs, anything odd) goes to `packaging`. The pattern accepts nothing `packaging`
refuses (a test checks both on the same strings).
"""

from __future__ import annotations

import re
from functools import lru_cache

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_RELEASE = r"\d+(?:\.\d+)*"
_VERSION = _RELEASE + r"(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"
_SPEC = (
    rf"(?:(?:==|!=)\s*{_RELEASE}(?:\.\*|(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?)|(?:~=|>=|<=|>|<)\s*{_VERSION})"
)
_PLAIN = re.compile(rf"^{_NAME}(?:\[\s*{_NAME}(?:\s*,\s*{_NAME})*\s*\])?(?:\s*{_SPEC}(?:\s*,\s*{_SPEC})*)?$")


@lru_cache(maxsize=1024)
def requirement_problem(text: str) -> str | None:
    """None when `text` is a valid requirement, else what is wrong with it (packaging's words)."""
    if _PLAIN.match(text):
        return None
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as exc:
        return str(exc).splitlines()[0]
    return None
