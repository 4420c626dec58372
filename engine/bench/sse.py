"""Reading an OpenAI-style server-sent event stream of chat completion chunks, as bytes arrive.

`StreamObserver.feed(data, arrived)` takes each piece of the response body with the time it
arrived and records what the benchmark needs: when each token chunk arrived, the finish reason,
the usage counts, whether `[DONE]` came, and the first error. Only `data:` lines matter for chat
completions (comments, `event:` and blank lines are skipped); each `data:` line is one event, as
every OpenAI-compatible server sends them.

A token chunk is one whose choice delta carries generated output: `content` or
`reasoning_content` (reasoning models stream thoughts before the answer; the user waits for them
all the same). vLLM sends one chunk per generated token, with empty `content` for a token that
completes no character yet, so a delta holding a `content` string counts even when it is empty;
the role announcement that opens the message (`{"role": "assistant", "content": ""}`) carries
no token and does not count. See docs/bench.md for how this matches vLLM's and guidellm's clients.
"""

from __future__ import annotations

import json

DONE_LINE = b"[DONE]"
_OPEN_CONTENT = b'"delta":{"content":"'
_NO_FINISH = b'"finish_reason":null'
_USAGE = b'"usage"'
_ERROR = b'"error"'
_DELTA = b'"delta"'
_ROLE = b'"role"'


class StreamObserver:
    """What one streamed chat completion delivered, filled in as its bytes arrive."""

    __slots__ = ("token_times", "finish_reason", "usage", "saw_done", "error", "_partial")

    def __init__(self) -> None:
        self.token_times: list[float] = []
        self.finish_reason: str | None = None
        self.usage: dict[str, object] | None = None
        self.saw_done = False
        self.error: str | None = None
        self._partial = b""

    def feed(self, data: bytes, arrived: float) -> None:
        if not self._partial and data[-2:] == b"\n\n" and data.find(b"\n") == len(data) - 2 and data[:5] == b"data:":
            # One whole event, the usual piece of a stream: straight to the event, no splitting.
            self._event(data[5:-2].strip(), arrived)
            return
        if self._partial:
            data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # the bytes after the last newline: a line still arriving
        for line in lines:
            if line[:5] == b"data:":
                self._event(line[5:].strip(), arrived)

    def close(self, arrived: float) -> None:
        """The body ended: a last line without its newline still counts."""
        line, self._partial = self._partial, b""
        if line[:5] == b"data:":
            self._event(line[5:].strip(), arrived)

    def _event(self, payload: bytes, arrived: float) -> None:
        if self.error is not None or self.saw_done:
            return  # after an error or [DONE] nothing more is measured
        if payload == DONE_LINE:
            self.saw_done = True
            return
        if not payload:
            return
        if (
            _OPEN_CONTENT in payload
            and _NO_FINISH in payload
            and _USAGE not in payload
            and _ERROR not in payload
            and _ROLE not in payload
            and payload.count(_DELTA) == 1
        ):
            # The shape of nearly every chunk: one choice, a content delta, no finish, no usage.
            # Decoding it would say only "a token", so it is not decoded. The patterns are keys
            # with both quotes: inside a JSON string quotes are escaped, so they match only keys.
            self.token_times.append(arrived)
            return
        try:
            chunk = json.loads(payload)
        except ValueError:
            self.error = f"unreadable event: {payload[:80].decode('utf-8', 'replace')}"
            return
        if not isinstance(chunk, dict):
            self.error = "an event is not a JSON object"
            return
        if "error" in chunk:
            error = chunk["error"]
            self.error = str(error.get("message") if isinstance(error, dict) else error)
            return
        choices = chunk.get("choices")
        if choices:
            token = False
            for choice in choices:
                if not isinstance(choice, dict):
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict) and _carries_token(delta):
                    token = True
                if choice.get("finish_reason"):
                    self.finish_reason = str(choice["finish_reason"])
            if token:
                self.token_times.append(arrived)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            self.usage = usage


def _carries_token(delta: dict[str, object]) -> bool:
    content = delta.get("content")
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if reasoning:
        return True
    if not isinstance(content, str):
        return False
    # The opening role chunk carries `content: ""` but no token.
    return bool(content) or "role" not in delta
