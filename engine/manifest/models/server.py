"""`kind: server` services: any HTTP server that is a container image, a command and a port
(text-embeddings-inference, Infinity, llama.cpp's server, Ollama, Triton, a team's own binary).

mdeploy runs the command as it is, in an `app.server` class like an llm service's engine: waits
for its health path, sends the warm-up, stops its process tree. What it cannot know, it does not
guess: there is no default image, no model and no default warm-up request. The command's
`${PORT}` and `${HOST}` are filled by the planner (the port below, all interfaces in the
container) and again by `mdeploy serve` (the local port and address); any other `${...}` is a
mistake, refused here. `$$` is a literal `$`. Deploy-time environment variables are not expanded
in `command` (the loader leaves it alone): the container's own variables are read by a shell
the command starts (`sh -c "... $$VAR"`).
"""

from __future__ import annotations

import difflib
import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from engine.manifest.models.base import StrictModel, TupleOf, fail
from engine.manifest.models.container import MAX_EXIT_GRACE_PERIOD, ContainerSettings, ServerScaling
from engine.manifest.models.llm import MAX_STARTUP_TIMEOUT, ServerConcurrency, WarmupField
from engine.manifest.models.shorthands import DurationSeconds
from engine.manifest.models.web import WebAuth

# The placeholders a server's command may hold; engine/blueprint/server_command.py fills them
# (a test checks the two lists agree: the manifest layer imports nothing of the Blueprint's).
COMMAND_PLACEHOLDERS = ("PORT", "HOST")
_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}?")
HEALTH_PATH_PATTERN = r"^/"


def placeholder_problem(text: str) -> tuple[str, str] | None:
    """(message, hint) for the first placeholder of `text` that is not one mdeploy fills."""
    for match in _TOKEN.finditer(text):
        if match.group(0) == "$$":
            continue
        name = match.group(1)
        if not match.group(0).endswith("}"):
            return f"unclosed placeholder {match.group(0)!r}", "write ${PORT} or ${HOST}; write $$ for a literal $"
        if name not in COMMAND_PLACEHOLDERS:
            close = difflib.get_close_matches(name.upper(), COMMAND_PLACEHOLDERS, n=1, cutoff=0.7)
            hint = (
                f"did you mean ${{{close[0]}}}?"
                if close
                else 'for a variable of the container, run the command through a shell: [sh, -c, "srv --x $$VAR"]'
            )
            known = ", ".join(f"${{{n}}}" for n in COMMAND_PLACEHOLDERS)
            return f"unknown placeholder ${{{name}}}: a server's command may hold {known}", hint
    return None


class ServerHealth(StrictModel):
    """When the server is ready: GET `path` until it answers."""

    path: Annotated[
        str | None, Field(pattern=HEALTH_PATH_PATTERN, description='Path probed until ready. Default: "/health".')
    ] = None
    ready: Annotated[
        Literal["ok", "any"] | None,
        Field(
            description='"ok": a 2xx answer means ready; "any": any HTTP answer does (a server whose path answers 404 once it listens). Default: "ok".'
        ),
    ] = None


def _refuse_timeout(value: Any) -> Any:
    raise fail(
        "a server takes no timeout: Modal's app.server has no such parameter, so the value would be dropped",
        hint="remove it; startup_timeout bounds start-up, and a request's length is bounded by its caller",
    )


class ServerService(ContainerSettings):
    """Your server: an image, a command and a port, run in Modal's `app.server`."""

    kind: Annotated[Literal["server"], Field(description="A server given by image, command and port.")]
    command: Annotated[
        TupleOf[Annotated[str, Field(min_length=1)]],
        Field(
            min_length=1,
            description='The argv that starts the server, e.g. ["my-server", "--listen", "${HOST}:${PORT}"]. `${PORT}` and `${HOST}` are filled in; `$$` is a literal `$`.',
        ),
    ]
    port: Annotated[int | None, Field(ge=1, le=65535, description="Port the server listens on. Default: 8000.")] = None
    health: Annotated[ServerHealth, Field(description="The readiness check.")] = ServerHealth()
    warmup: WarmupField = None
    concurrency: Annotated[ServerConcurrency | None, Field(description="Concurrent requests per container.")] = None
    startup_timeout: Annotated[
        Annotated[int, DurationSeconds(1, MAX_STARTUP_TIMEOUT)] | None,
        Field(description='How long start-up (pull, load, health) may take. Default: "20m".'),
    ] = None
    auth: Annotated[WebAuth, Field(description="Who may call the server.")] = WebAuth()
    routing_region: Annotated[
        str | None, Field(description="Region requests enter Modal through; default: Modal's (us-east).")
    ] = None
    scaling: Annotated[ServerScaling, Field(description="Autoscaling bounds.")] = ServerScaling()
    exit_grace_period: Annotated[
        Annotated[int, DurationSeconds(0, MAX_EXIT_GRACE_PERIOD)] | None,
        Field(description='How long a draining container may finish in-flight requests, e.g. "20s". Default: 5 s.'),
    ] = None
    http2: Annotated[bool, Field(description="Accept HTTP/2 from clients (`app.server(h2_enabled=True)`).")] = False
    timeout: Annotated[None, Field(description="Not accepted: `app.server` has no timeout (see startup_timeout).")] = (
        None
    )

    _timeout_not_null = field_validator("timeout", mode="before")(_refuse_timeout)

    @model_validator(mode="after")
    def _check(self) -> ServerService:
        for index, arg in enumerate(self.command):
            problem = placeholder_problem(arg)
            if problem is not None:
                raise fail(problem[0], hint=problem[1], at=("command", index))
        if self.warmup is not None and self.warmup is not False and self.warmup.path is None:
            raise fail(
                "a server's warm-up needs a path: mdeploy knows no request that suits every server",
                hint='e.g. warmup: {path: /embed, body: {inputs: "hello"}}',
                at=("warmup",),
            )
        return self
