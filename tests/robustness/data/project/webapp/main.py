async def app(scope, receive, send) -> None:
    """An ASGI app itself."""
