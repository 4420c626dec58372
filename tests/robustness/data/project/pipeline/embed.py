def batch(texts: list[str]) -> list[int]:
    return [len(text) for text in texts]
