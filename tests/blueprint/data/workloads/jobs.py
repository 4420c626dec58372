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
