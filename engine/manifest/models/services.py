"""A service is long-running and serves HTTP: `kind: llm` (an inference engine) or `kind: web`
(your own app). This module is the one place the two are told apart."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from engine.manifest.models.llm import LlmService
from engine.manifest.models.web import WebService

Service = Annotated[LlmService | WebService, Field(discriminator="kind")]
"""Any service, told apart by `kind` (then `engine` for llm)."""
SERVICE_KINDS = ("llm", "web")
