"""A service is long-running and serves HTTP: `kind: llm` (an inference engine), `kind: server`
(any server given by image, command and port) or `kind: web` (your own Python app). This module
is the one place they are told apart."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from engine.manifest.models.llm import LlmService
from engine.manifest.models.server import ServerService
from engine.manifest.models.web import WebService

Service = Annotated[LlmService | ServerService | WebService, Field(discriminator="kind")]
"""Any service, told apart by `kind` (then `engine` for llm)."""
SERVICE_KINDS = ("llm", "server", "web")
