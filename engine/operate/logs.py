"""`modal app|server|function logs` for a manifest, or one of its objects, with Modal's filters.

The whole app: `modal app logs APP`; a server: `modal server logs APP/NAME`; a function:
`modal function logs APP/NAME`. The filters every one of them takes are passed as given.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.operate.modal_cli import ModalCall, call, env_args
from engine.operate.names import ModalNames, ModalObject


@dataclass(frozen=True)
class LogFilters:
    follow: bool = False
    since: str | None = None
    until: str | None = None
    tail: int | None = None
    search: str | None = None
    source: str | None = None  # stdout | stderr | system
    container: str | None = None  # ta-...
    timestamps: bool = False
    show_container_id: bool = False

    def args(self) -> tuple[str, ...]:
        words: list[str] = []
        if self.follow:
            words.append("--follow")
        for flag, value in (
            ("--since", self.since),
            ("--until", self.until),
            ("--tail", None if self.tail is None else str(self.tail)),
            ("--search", self.search),
            ("--source", self.source),
            ("--container", self.container),
        ):
            if value is not None:
                words += [flag, value]
        if self.timestamps:
            words.append("--timestamps")
        if self.show_container_id:
            words.append("--show-container-id")
        return tuple(words)


def logs_call(names: ModalNames, obj: ModalObject | None, filters: LogFilters) -> ModalCall:
    target = ("app", "logs", names.app) if obj is None else (obj.kind, "logs", obj.ref)
    return call(*target, *filters.args(), *env_args(names.env))
