def hello(body: dict) -> dict:
    return body
