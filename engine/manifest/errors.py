"""The one error type for a user's mistakes in a manifest, and the located problems it carries.

Every problem knows where it came from (`file:line:col`) and which key it is about, so the CLI can
print it the way compilers do and an editor can jump to it. Nothing here imports anything of ours:
the whole manifest package, and everything above it, raises these.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A position in a manifest file; `line` and `col` are 1-based, as editors count them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One mistake: where it is, which dotted key it concerns, what is wrong and how to fix it.

    `severity` is "error" (the manifest is refused) or "warning" (it works, but probably not as
    meant, or not for long: shown by `mdeploy validate`, an error only under `--strict`).
    `message` and `hint` must never contain a secret value: problems are printed as they are.
    """

    location: Location | None
    key: str
    message: str
    hint: str | None = None
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity != "warning"

    def format(self) -> str:
        where = str(self.location) if self.location else "<manifest>"
        key = f" {self.key}:" if self.key else ""
        label = " warning:" if self.severity == "warning" else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}:{key}{label} {self.message}{hint}"

    def sort_key(self) -> tuple[tuple[str, int, int], str, str]:
        loc = self.location
        return (loc.file, loc.line, loc.col) if loc else ("", 0, 0), self.key, self.message


class ManifestError(Exception):
    """Raised for anything wrong with a user's manifest; carries every problem found, in order."""

    def __init__(self, problems: list[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        if not problems:
            raise ValueError("ManifestError needs at least one problem")
        self.problems: list[Problem] = sorted(problems, key=Problem.sort_key)
        super().__init__("\n".join(p.format() for p in self.problems))

    def format(self) -> str:
        return "\n".join(p.format() for p in self.problems)
