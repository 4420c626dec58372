"""The text `mdeploy init` writes: a manifest, an overlay, a handler module, each commented.

Written by hand rather than dumped: comments and key order are what teach a first manifest. Every
string is emitted as a plain YAML scalar only when it cannot be read as anything else, otherwise
JSON-quoted (a JSON string is a YAML 1.2 double-quoted scalar).
"""

from __future__ import annotations

import json
import posixpath
import re

from engine.init.choices import Choices, filled
from engine.init.revision import Pinned

SCHEMA = "manifest.schema.json"
OVERLAY_SCHEMA = "manifest-overlay.schema.json"
WEB_IMAGE = "web"
# The FastAPI the shipped web manifest pins (manifests/web-api.yaml); `[standard]` brings uvicorn.
FASTAPI = "fastapi[standard]==0.115.6"
_PLAIN = re.compile(r"^[A-Za-z_/.][A-Za-z0-9_./@:\[\]=-]*$")
_NOT_PLAIN = {"true", "false", "null", "~", "yes", "no", "on", "off"}


def scalar(value: str) -> str:
    if _PLAIN.match(value) and value.lower() not in _NOT_PLAIN and ": " not in value:
        return value
    return json.dumps(value)


def manifest_text(c: Choices, pinned: Pinned | None, schema_ref: str) -> str:
    head = [f"# yaml-language-server: $schema={schema_ref}", "#"]
    head += [f"# {line}" if line else "#" for line in _intro(c)]
    body = ["version: 1", f"app: {scalar(filled(c.app, 'app'))}", ""]
    if c.kind == "llm":
        body += _llm_service(c, pinned)
    elif c.kind == "web":
        body += _web_service(c)
    else:
        body += _function(c)
    return "\n".join(head + body) + "\n"


def overlay_text(c: Choices, schema_ref: str) -> str:
    manifest = filled(c.path, "path")
    lines = [
        f"# yaml-language-server: $schema={schema_ref}",
        "#",
        f"# The {c.overlay} environment of {manifest.name}: only what differs there (see `mdeploy diff",
        f"# {manifest.as_posix()} --env {c.overlay} --against-env main`). Written by `mdeploy init`.",
    ]
    if c.kind == "function":
        lines += ["functions:", f"  {c.key}:", "    retries: 4                  # more patience where it counts"]
    else:
        lines += [
            "services:",
            f"  {c.key}:",
            "    scaling:",
            "      min_containers: 1         # one container always warm: no cold start for the first request",
            f"      max_containers: {4 if c.kind == 'llm' else 5}",
        ]
    return "\n".join(lines) + "\n"


def handler_text(c: Choices) -> str:
    module, _, attr = filled(c.handler, "handler").partition(":")
    manifest = filled(c.path, "path").as_posix()
    if c.kind == "web":
        return "\n".join(
            [
                f'"""The web app of {manifest}: FastAPI, served as ASGI.',
                "",
                f"    mdeploy serve {manifest}      # on this machine, under uvicorn",
                '"""',
                "",
                "from fastapi import FastAPI",
                "",
                f"{attr} = FastAPI()",
                "",
                "",
                f'@{attr}.get("/")',
                "def hello() -> dict:",
                '    return {"hello": "world"}',
                "",
            ]
        )
    return "\n".join(
        [
            f'"""The scheduled function of {manifest} ({c.key}).',
            "",
            f"    mdeploy run {manifest} {c.key}      # call it once on this machine",
            '"""',
            "",
            "from __future__ import annotations",
            "",
            "import datetime",
            "import os",
            "",
            "",
            f"def {attr}() -> dict:",
            '    """Runs on the schedule; what it returns is the call\'s result (`mdeploy run` prints it)."""',
            "    now = datetime.datetime.now(datetime.timezone.utc)",
            '    return {"app": os.environ.get("MDEPLOY_APP"), "ran_at": now.isoformat(timespec="seconds")}',
            "",
        ]
    )


def schema_reference(manifest_folder: str, schemas_folder: str, overlay: bool) -> str:
    """The schema file as a path relative to the manifest's folder (posix)."""
    name = OVERLAY_SCHEMA if overlay else SCHEMA
    return posixpath.relpath(posixpath.join(schemas_folder, name), manifest_folder)


def _intro(c: Choices) -> list[str]:
    manifest = filled(c.path, "path").as_posix()
    if c.kind == "llm":
        what = f"{c.model_id or c.model_path} on {c.engine}, an OpenAI-compatible service on one {c.gpu}."
    elif c.kind == "web":
        what = f"A FastAPI app ({c.handler}), served as ASGI."
    else:
        what = f"A scheduled function ({c.handler})."
    commands = [
        (f"mdeploy validate {manifest}", ""),
        (f"mdeploy plan {manifest}", "everything it deploys, with a cost estimate"),
    ]
    if c.kind == "function":
        commands.append((f"mdeploy run {manifest} {c.key}", "call it on this machine"))
    elif c.kind == "web" or c.engine == "transformers":
        commands.append((f"mdeploy serve {manifest}", "run it on this machine"))
    commands.append((f"mdeploy deploy {manifest} --env ENV", "needs Modal credentials"))
    width = max(len(command) for command, _ in commands)
    lines = [f"{c.app}: {what}", "Written by `mdeploy init`.", ""]
    lines += [f"  {command:<{width}}   # {why}" if why else f"  {command}" for command, why in commands]
    return lines


def _llm_service(c: Choices, pinned: Pinned | None) -> list[str]:
    lines = ["services:", f"  {c.key}:", "    kind: llm", f"    engine: {c.engine}", "    model:"]
    if c.model_id is not None:
        assert pinned is not None
        lines += [
            f"      id: {scalar(c.model_id)}",
            f"      revision: {pinned.commit}   # {pinned.how}; pinned, as a branch can move under a deployed service",
        ]
    else:
        lines.append(
            f"      path: {scalar(filled(c.model_path, 'model_path'))}   # a folder with config.json (a local run's, or in a mounted volume)"
        )
    lines += [
        f"    gpu: {c.gpu}",
        "    scaling:",
        "      max_containers: 1",
        "      scaledown_window: 5m       # idle time before a container stops (GPU time is billed)",
        "    # Modal proxy auth is on by default: clients send Modal-Key and Modal-Secret headers.",
    ]
    return lines


def _web_service(c: Choices) -> list[str]:
    return [
        "images:",
        f"  {WEB_IMAGE}:",
        '    python: "3.12"',
        "    pip:",
        f"      - {FASTAPI}",
        "",
        "services:",
        f"  {c.key}:",
        "    kind: web",
        f"    app: {c.handler}",
        "    interface: asgi",
        f"    image: {WEB_IMAGE}",
        "    scaling:",
        "      max_containers: 1",
        "    # Modal proxy auth is on by default; `auth: {proxy: false}` makes the app public.",
    ]


def _function(c: Choices) -> list[str]:
    given = filled(c.schedule, "schedule")
    if " " in given.strip():
        schedule = [f"      cron: {json.dumps(given)}   # minute hour day month weekday, in UTC"]
    else:
        schedule = [f"      every: {scalar(given)}"]
    return [
        "functions:",
        f"  {c.key}:",
        f"    handler: {c.handler}",
        "    schedule:",
        *schedule,
        "    timeout: 10m",
        "    retries: 2",
    ]
