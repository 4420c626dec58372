def handle(body: dict) -> dict:
    return body
