"""Which objects a smoke check calls, and where: the URLs Modal reports for them."""

from __future__ import annotations

from dataclasses import dataclass

from engine.blueprint.model import Blueprint
from engine.operate import modal_cli
from engine.operate.names import ModalNames, ModalObject
from engine.operate.readback import object_info_call, parse_object


@dataclass(frozen=True)
class Target:
    obj: ModalObject
    url: str | None
    startup_timeout: int
    problem: str | None = None  # the info call failed


def startup_timeouts(blueprint: Blueprint) -> dict[str, int]:
    return {s.key: s.startup_timeout for s in blueprint.servers}


def url_calls(names: ModalNames) -> list[modal_cli.ModalCall]:
    return [object_info_call(names, obj) for obj in names.http_objects]


def resolve_targets(blueprint: Blueprint, names: ModalNames) -> list[Target]:
    """Each LLM server and web endpoint with the URL `modal server|function info` reports."""
    timeouts = startup_timeouts(blueprint)
    replies = modal_cli.read_all(url_calls(names))
    targets = []
    for obj, reply in zip(names.http_objects, replies):
        url = parse_object(obj.kind, obj.name, reply.data).url if reply.ok else None
        targets.append(Target(obj, url, timeouts.get(obj.key, 0), reply.error))
    return targets
