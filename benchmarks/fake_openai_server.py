"""A fast fake OpenAI-compatible server that streams chat completions, for measuring the client.

It answers GET /health, GET /v1/models and POST /v1/chat/completions (streamed or not), sending
`max_tokens` one-word chunks `--token-delay` seconds apart, then a usage chunk and `[DONE]`, as
vLLM does. It does no work per token beyond writing the chunk, so a benchmark against it measures
the load generator, not a model. Used by benchmarks/bench_overhead.py and the bench tests.

    python benchmarks/fake_openai_server.py --port 8001 [--token-delay 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

MODEL = "fake-model"


def build_app(token_delay: float):
    from aiohttp import web

    async def health(_request):
        return web.json_response({"status": "ok"})

    async def models(_request):
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def chat(request):
        body = await request.json()
        if body.get("model") != MODEL:
            return web.json_response({"error": {"message": f"unknown model {body.get('model')!r}"}}, status=404)
        tokens = int(body.get("max_tokens") or 16)
        prompt_tokens = len(str(body.get("messages")).split())
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens, "total_tokens": prompt_tokens + tokens}
        if not body.get("stream"):
            message = {"role": "assistant", "content": " ".join(["tok"] * tokens)}
            return web.json_response(
                {"id": "fake", "object": "chat.completion", "created": int(time.time()), "model": MODEL,
                 "choices": [{"index": 0, "message": message, "finish_reason": "length"}], "usage": usage}
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        head = {"id": "fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": MODEL}
        for index in range(tokens):
            if token_delay:
                await asyncio.sleep(token_delay)
            chunk = {**head, "choices": [{"index": 0, "delta": {"content": f" tok{index}"}, "finish_reason": None}]}
            await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        final = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]}
        await response.write(b"data: " + json.dumps(final).encode() + b"\n\n")
        if (body.get("stream_options") or {}).get("include_usage"):
            await response.write(b"data: " + json.dumps({**head, "choices": [], "usage": usage}).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/chat/completions", chat)
    return app


def main() -> None:
    from aiohttp import web

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between chunks")
    args = parser.parse_args()
    web.run_app(build_app(args.token_delay), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
