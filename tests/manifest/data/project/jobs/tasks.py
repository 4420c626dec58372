"""Plain, scheduled and queue-driven handlers."""

import os

RETRIES = 3


class Worker:
    def __call__(self, item):
        return item


def process(item: str) -> dict:
    return {"item": item}


def nightly() -> int:
    return 0


async def refresh(limit: int = 10) -> int:
    return limit


def needs_two(a, b):
    return a + b


def takes_anything(*args, **kwargs):
    return args, kwargs


def keyword_only(*, when):
    return when


if os.environ.get("X"):
    def maybe():
        return 1


def stream():
    yield 1
