"""The seam fixture's functions, each shaped for the way the manifest calls it (never run)."""


def crunch(path: str) -> int:
    return len(path)


def hook(event: dict) -> dict:
    """A PUT endpoint: FastAPI reads `event` from the request body."""
    return event


def retry() -> None:
    """Retried on failure by Modal."""
