"""Reading an OpenAI-style server-sent event stream of chat completion chunks, pure.

Only the `data:` lines matter for chat completions; `[DONE]` ends the stream. A chunk counts as
generated text when any choice's delta carries non-empty `content` (or `reasoning_content`, which
reasoning models stream before the answer: it is output the user waits for all the same).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DONE = object()


@dataclass(frozen=True)
class Chunk:
    has_text: bool
    usage: dict | None
    error: str | None = None


def parse_event_line(line: bytes | str) -> object | None:
    """One line of the stream -> a decoded JSON payload, `DONE`, or None (blank, comment, other field)."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line.startswith("data:"):
        return None
    payload = line[len("data:") :].strip()
    if payload == "[DONE]":
        return DONE
    if not payload:
        return None
    try:
        return json.loads(payload)
    except json.JSONDecodeError:
        return {"error": {"message": f"unreadable event: {payload[:80]}"}}


def read_chunk(payload: dict) -> Chunk:
    """What the load generator needs from one decoded chunk."""
    if not isinstance(payload, dict):
        return Chunk(has_text=False, usage=None, error="event is not a JSON object")
    if "error" in payload:
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        return Chunk(has_text=False, usage=None, error=str(message))
    has_text = False
    for choice in payload.get("choices") or ():
        delta = choice.get("delta") or {}
        if delta.get("content") or delta.get("reasoning_content"):
            has_text = True
    usage = payload.get("usage")
    return Chunk(has_text=has_text, usage=usage if isinstance(usage, dict) else None)
