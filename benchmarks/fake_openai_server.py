"""A fake OpenAI-compatible server that streams chat completions, well or badly on purpose.

It answers GET /health, GET /v1/models and POST /v1/chat/completions (streamed or not), sending
a role chunk, then `max_tokens` one-word chunks `--token-delay` seconds apart (the last with its
finish reason), then a usage chunk and `[DONE]`, as vLLM does. It does no work per token beyond
writing the chunk, so a benchmark against it measures the load generator, not a model.

A path prefix picks a misbehaviour, so one server serves every case the tests need:
`http://HOST:PORT/MODE/v1`, MODE one of

    no-done      the stream ends (cleanly) without `data: [DONE]` or the usage chunk
    no-finish    no chunk carries a finish_reason
    short        5 tokens whatever max_tokens asks, finish_reason "stop" (as if EOS came early)
    error-500    POST answers HTTP 500
    stall        sends 2 tokens, then nothing until the client gives up
    malformed    the third event is not JSON
    html-models  GET /v1/models answers 200 with an HTML page

    python benchmarks/fake_openai_server.py --port 8001 [--token-delay 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

MODEL = "fake-model"
MODES = ("ok", "no-done", "no-finish", "short", "error-500", "stall", "malformed", "html-models")
SHORT_TOKENS = 5


def build_app(token_delay: float):
    from aiohttp import web

    def mode_of(request) -> str:
        return request.match_info.get("mode", "ok")

    async def health(_request):
        return web.json_response({"status": "ok"})

    async def models(request):
        if mode_of(request) == "html-models":
            return web.Response(text="<html><body>Welcome to nginx!</body></html>", content_type="text/html")
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def chat(request):
        mode = mode_of(request)
        if mode not in MODES:
            return web.json_response({"error": {"message": f"unknown mode {mode!r}"}}, status=404)
        body = await request.json()
        if mode == "error-500":
            return web.json_response({"error": {"message": "the engine crashed"}}, status=500)
        if body.get("model") != MODEL:
            return web.json_response({"error": {"message": f"unknown model {body.get('model')!r}"}}, status=404)
        asked = int(body.get("max_tokens") or body.get("max_completion_tokens") or 16)
        tokens = min(asked, SHORT_TOKENS) if mode == "short" else asked
        finish = "stop" if mode == "short" or tokens < asked else "length"
        prompt_tokens = len(str(body.get("messages")).split())
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens}
        if not body.get("stream"):
            message = {"role": "assistant", "content": " ".join(["tok"] * tokens)}
            return web.json_response(
                {
                    "id": "fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": MODEL,
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": usage,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        head = {"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL}

        async def event(payload) -> None:
            data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
            await response.write(b"data: " + data + b"\n\n")

        await event(
            {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        )
        for index in range(tokens):
            if token_delay:
                await asyncio.sleep(token_delay)
            if mode == "stall" and index == 2:
                await asyncio.sleep(3600)
            if mode == "malformed" and index == 2:
                await event(b'{"choices": [{"delta": {"content": "tok')
                continue
            last = index == tokens - 1 and mode != "no-finish"
            choice = {"index": 0, "delta": {"content": f" tok{index}"}, "finish_reason": finish if last else None}
            await event({**head, "choices": [choice]})
        if (body.get("stream_options") or {}).get("include_usage") and mode != "no-done":
            await event({**head, "choices": [], "usage": usage})
        if mode != "no-done":
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/{mode}/v1/models", models)
    app.router.add_post("/{mode}/v1/chat/completions", chat)
    return app


def main() -> None:
    from aiohttp import web

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between chunks")
    args = parser.parse_args()
    # A stalled stream must not hold the shutdown: the tests end the server with streams still open.
    web.run_app(
        build_app(args.token_delay), host=args.host, port=args.port, access_log=None, print=None, shutdown_timeout=0.5
    )


if __name__ == "__main__":
    main()
