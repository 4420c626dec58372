"""`kind: web` services: your own ASGI/WSGI app or FastAPI endpoint, given by import path."""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from engine.manifest.models.base import StrictModel, fail
from engine.manifest.models.container import AppFunctionSettings, InputConcurrency
from engine.manifest.models.shorthands import ImportPath

DEFAULT_INTERFACE: Final = "asgi"
LABEL_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
_LABEL_RE = re.compile(LABEL_PATTERN)
HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]


def check_label(label: str | None) -> None:
    """Modal URL labels are DNS labels: lowercase letters, digits and dashes, at most 63."""
    if label is not None and not _LABEL_RE.match(label):
        raise fail(
            "is not a valid URL label", hint="lowercase letters, digits and '-', at most 63 characters", at=("label",)
        )


class WebAuth(StrictModel):
    """Modal proxy auth in front of the app (callers send Modal-Key/Modal-Secret headers)."""

    proxy: Annotated[
        bool | None, Field(description="Require Modal proxy auth tokens. Default: on (set false for a public API).")
    ] = None


class WebService(AppFunctionSettings):
    """Your web app, imported from the image and served by Modal."""

    kind: Annotated[Literal["web"], Field(description="Your own web app.")]
    app: Annotated[
        ImportPath, Field(description='Import path of the app object or endpoint function: "package.module:attr".')
    ]
    interface: Annotated[
        Literal["asgi", "wsgi", "fastapi_endpoint"],
        Field(description="asgi (FastAPI, Starlette), wsgi (Flask, Django) or fastapi_endpoint (one function)."),
    ] = DEFAULT_INTERFACE
    method: Annotated[HttpMethod | None, Field(description="HTTP method (fastapi_endpoint only); default GET.")] = None
    docs: Annotated[bool, Field(description="Serve /docs (fastapi_endpoint only).")] = False
    label: Annotated[str | None, Field(description="Fixed URL label (the subdomain of the endpoint).")] = None
    auth: Annotated[WebAuth, Field(description="Who may call the app.")] = WebAuth()
    concurrency: Annotated[InputConcurrency | None, Field(description="Requests one container handles at once.")] = None

    @model_validator(mode="after")
    def _check(self) -> WebService:
        check_label(self.label)
        if self.interface != "fastapi_endpoint":
            for key in ("method", "docs"):
                if key in self.model_fields_set:
                    raise fail(
                        f"`{key}` applies to interface: fastapi_endpoint only",
                        hint="remove it or set interface: fastapi_endpoint",
                        at=(key,),
                    )
        return self
