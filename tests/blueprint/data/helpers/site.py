"""The fixture's WSGI site: a WSGI app is a callable of (environ, start_response)."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"kitchen sink"]
