"""What `mdeploy bench` points at: a base URL, or `MANIFEST:SERVICE` to serve locally first.

Parsing is pure; `discover_model` is the one network call (GET /v1/models), used when the user
names no model, because servers answer only to the name they serve (transformers serve, pinned to
one model, rejects any other).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from engine.errors import UserError


@dataclass(frozen=True)
class Target:
    base_url: str | None = None  # normalised to end in /v1
    manifest: str | None = None
    service: str | None = None


# What `MANIFEST[:SERVICE]` may name: a manifest (engine.manifest.load's suffixes; bench imports no
# other package of ours) or a Blueprint as `plan --format json` wrote it.
SERVABLE_SUFFIXES = (".yaml", ".yml", ".toml", ".json")


def parse_target(text: str) -> Target:
    """Forms: `http(s)://host[:port][/v1]`, `MANIFEST:SERVICE`, `MANIFEST` (its only service)."""
    if text.startswith(("http://", "https://")):
        _check_url(text)
        return Target(base_url=normalise_base_url(text))
    if "://" in text:
        raise UserError(f"bench target {text!r}: only http:// and https:// URLs are supported")
    manifest, sep, service = text.rpartition(":")
    if sep and re.match(r"\d+(/|$)", service) and not manifest.lower().endswith(SERVABLE_SUFFIXES):  # localhost:8000
        raise UserError(f"bench target {text!r}: a URL needs its scheme, e.g. http://{text}")
    if not (manifest if sep else text).lower().endswith(SERVABLE_SUFFIXES):
        raise UserError(
            f"bench target {text!r} is neither a URL (http://HOST:PORT) nor a manifest "
            "(.yaml, .yml or .toml, or a Blueprint's .json; optionally :SERVICE)"
        )
    if not sep:
        return Target(manifest=text)
    if not manifest or not service:
        raise UserError(f"bench target {text!r}: write MANIFEST:SERVICE, e.g. manifests/local-chat.yaml:chat")
    return Target(manifest=manifest, service=service)


def _check_url(url: str) -> None:
    """A URL urllib can request: a host, and a port that is a number (checked by `.port`)."""
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # a port that is not a number raises ValueError here
    except ValueError as exc:
        raise UserError(f"bench target {url!r} is not a valid URL: {exc}") from None
    if not parts.hostname:
        raise UserError(f"bench target {url!r} names no host: write e.g. http://127.0.0.1:8000")


def normalise_base_url(url: str) -> str:
    """OpenAI clients take the URL up to /v1; accept it with or without that suffix."""
    url = url.rstrip("/")
    return url if url.endswith("/v1") else f"{url}/v1"


def discover_model(base_url: str, api_key: str | None, timeout: float = 30.0) -> str:
    """The first model the server lists, for requests that must name it."""
    request = urllib.request.Request(f"{base_url}/models")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        raise UserError(f"GET {base_url}/models answered HTTP {exc.code}: pass --model NAME") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise UserError(f"cannot reach {base_url}/models ({reason}): is the server running?") from None
    try:
        listing = json.loads(body)
    except ValueError:
        # It answered, so it is reachable; what answered is not an OpenAI-compatible API.
        start = body[:60].decode("utf-8", "replace").strip()
        raise UserError(
            f"GET {base_url}/models answered 200 with something that is not JSON ({start!r}): "
            "is this an OpenAI-compatible server? Check the URL, or pass --model NAME"
        ) from None
    data = listing.get("data") if isinstance(listing, dict) else None
    entries = data if isinstance(data, list) else []  # OpenAI's shape: {"data": [{"id": NAME}, ...]}
    names = [name for m in entries if isinstance(m, dict) and isinstance(name := m.get("id"), str)]
    if not names:
        raise UserError(f"{base_url}/models lists no model: pass --model NAME")
    return names[0]
