def run() -> None:
    """Scheduled: called with no arguments."""
