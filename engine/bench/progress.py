"""A one-line progress bar on stderr, without a dependency.

On a terminal it redraws in place; in a log (CI, a pipe) it prints a line at each tenth of the
way instead, so logs stay short and still show that the run is alive.

Why not rich's Progress (installed with modal): it redraws from a thread of its own several times
a second, and that thread takes the GIL from the load generator while it is timing tokens; this
bar draws only when a request ends, in the generator's own thread. (rich also has no
tenth-of-the-way mode for logs.)
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30


class ProgressBar:
    def __init__(self, total: int, label: str, stream: TextIO | None = None):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.failed = 0
        self.started = time.monotonic()
        self._interactive = getattr(self.stream, "isatty", lambda: False)()
        self._last_tenth = -1

    def advance(self, ok: bool = True) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        if self._interactive:
            self.stream.write("\r" + self.render())
            self.stream.flush()
            return
        tenth = self.done * 10 // self.total
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self.render() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self._interactive:
            self.stream.write("\n")
            self.stream.flush()

    def render(self) -> str:
        filled = BAR_WIDTH * self.done // self.total
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        elapsed = time.monotonic() - self.started
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.label} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s{failed}"
