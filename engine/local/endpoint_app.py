"""An ASGI app around a `fastapi_endpoint` handler, for running it locally under uvicorn.

Modal wraps such a handler in a FastAPI app with one route at `/`; this does the same, reading
the handler and method from the environment that `launch.web_launch` sets (uvicorn's `--factory`
takes no arguments). The handler is resolved as the container resolves it.
"""

from __future__ import annotations

import os
from typing import Any


def create_app() -> Any:  # a fastapi.FastAPI; fastapi is imported only when the app is made
    from fastapi import FastAPI

    from engine.runtime.handler_import import import_handler

    handler = import_handler(os.environ["MDEPLOY_ENDPOINT_HANDLER"])
    docs = bool(os.environ.get("MDEPLOY_ENDPOINT_DOCS"))
    app = FastAPI(docs_url="/docs" if docs else None, redoc_url=None, openapi_url="/openapi.json" if docs else None)
    app.add_api_route("/", handler, methods=[os.environ.get("MDEPLOY_ENDPOINT_METHOD", "GET")])
    return app
