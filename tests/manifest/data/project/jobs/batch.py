"""Batched handlers: Modal calls them with one list per parameter."""


def embed_batch(texts: list[str]) -> list[list[float]]:
    return [[0.0] for _ in texts]


def with_default(texts: list[str], size: int = 8) -> list[int]:
    return [size for _ in texts]


def no_params() -> list[int]:
    return []


def star_only(*texts):
    return list(texts)
