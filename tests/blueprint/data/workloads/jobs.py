"""The kitchen-sink fixture's functions, each shaped for the way the manifest calls it."""


def nightly() -> None:
    """Scheduled: called with no arguments."""


def hourly() -> None:
    """Scheduled: called with no arguments."""


def batch(items: list[str]) -> list[int]:
    """Batched: one list per parameter."""
    return [len(item) for item in items]


def hook(event: dict) -> dict:
    """A POST endpoint: FastAPI reads `event` from the request body."""
    return event


class Scorer:
    """A `kind: cls` function: loaded once per container, then its method is called."""

    def load(self) -> None:
        self.weight = 2

    def close(self) -> None:
        pass

    def score(self, text: str) -> int:
        return len(text) * self.weight


class Tuned:
    """A `kind: cls` function with class parameters, started from a memory snapshot."""

    def __init__(self, model_name: str, salt: bytes = b"pepper") -> None:
        self.model_name, self.salt = model_name, salt

    def load(self) -> None:
        self.weight = 2

    def warm(self) -> None:
        pass

    def score(self, text: str) -> int:
        return len(text) * self.weight
