"""The seam fixture's WSGI site: never run, only deployed (its module must exist to validate)."""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
