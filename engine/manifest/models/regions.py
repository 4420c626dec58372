"""The regions Modal has: where containers may run (`region`) and where requests enter
(`routing_region`). Source: Modal's region selection guide (modal.com/docs/guide/region-selection),
"Container region options" and "Specifying a routing region".

Modal's client sends any string and its server decides, so a typo fails only at deploy. The guide
also offers "more granular region definitions" on request: a name shaped like a cloud provider's
region (`us-east-1`, `us-ashburn-1`, `europe-west4`) is a warning, not an error, since a
workspace may have them.

Messages never repeat the value: it may have come from a variable (or be a pasted secret); the
location points at it.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from engine.manifest.models.base import Finding, container_bodies
from engine.manifest.source import KeyPath

# Broad regions, then the narrow ones inside each (the guide's table, in its order).
CONTAINER_REGIONS: dict[str, tuple[str, ...]] = {
    "us": ("us-east", "us-central", "us-south", "us-west"),
    "eu": ("eu-west", "eu-north", "eu-south"),
    "ap": ("ap-northeast", "ap-southeast", "ap-south", "ap-melbourne", "jp", "au"),
    "uk": (),
    "ca": (),
    "me": (),
    "sa": (),
    "af": (),
    "mx": (),
}
REGIONS = tuple(name for broad, narrow in CONTAINER_REGIONS.items() for name in (broad, *narrow))
ROUTING_REGIONS = ("us-east", "us-west", "eu-west", "ap-south")
_CLOUD_REGION = re.compile(r"^[a-z]+(?:-[a-z]+)+-?\d+$")


def _close(name: str, options: tuple[str, ...]) -> str | None:
    found = difflib.get_close_matches(name.lower(), options, n=1, cutoff=0.6)
    return found[0] if found else None


def _region_finding(path: KeyPath, name: str) -> Finding | None:
    if name in REGIONS:
        return None
    if name.lower() in REGIONS:
        return Finding(path, "Modal's region names are lower case", f"write '{name.lower()}'")
    if _CLOUD_REGION.match(name):
        return Finding(
            path,
            "is not one of Modal's regions; it looks like a cloud provider's region, "
            "which Modal accepts only where it enabled granular regions for the workspace",
            "if yours has them, keep it; otherwise name one of Modal's regions, e.g. 'us-east' or 'us'",
            severity="warning",
        )
    close = _close(name, REGIONS)
    hint = f"did you mean '{close}'?" if close else "Modal's regions: " + ", ".join(REGIONS)
    return Finding(path, "is not a region Modal has", hint)


def _routing_finding(path: KeyPath, name: str) -> Finding | None:
    if name in ROUTING_REGIONS:
        return None
    close = _close(name, ROUTING_REGIONS)
    routing = ", ".join(ROUTING_REGIONS)
    hint = f"did you mean '{close}'? (routing regions: {routing})" if close else f"routing regions: {routing}"
    return Finding(path, "is not a routing region Modal has", hint)


def check_regions(data: Any) -> list[Finding]:
    """Every `region` entry and every `routing_region` names a region Modal has."""
    if not isinstance(data, dict):
        return []
    findings: list[Finding | None] = []
    for path, body in container_bodies(data):
        if not isinstance(body, dict):
            continue
        region = body.get("region")
        if isinstance(region, str):
            findings.append(_region_finding((*path, "region"), region))
        elif isinstance(region, list):
            findings.extend(
                _region_finding((*path, "region", i), r) for i, r in enumerate(region) if isinstance(r, str)
            )
        routing = body.get("routing_region")
        if isinstance(routing, str):
            findings.append(_routing_finding((*path, "routing_region"), routing))
    return [f for f in findings if f is not None]
