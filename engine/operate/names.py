"""A manifest's Blueprint -> the names Modal knows it by: the one place they are formed.

The planner already decided every Modal name (`Blueprint.app`, `ServerSpec.name`,
`FunctionSpec.name`, `WebSpec.label`); this only arranges them the way Modal's CLI addresses
them: the app by name, a server or function as `APP/NAME`, with `--env` when one was chosen
(none: Modal's own default environment, as `mdeploy deploy` does). URLs are not formed here:
Modal assigns them (they contain the workspace name), so they are read back with
`modal server|function info` (readback.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.blueprint.model import Blueprint, FunctionSpec, HttpMethod, ServerSpec
from engine.blueprint.origins import Origins
from engine.engines.registry import get_engine
from engine.errors import UserError


@dataclass(frozen=True)
class ModalObject:
    """One server or function of the app, as Modal names it, with what a smoke check needs."""

    kind: str  # "server" | "function": also the `modal server|function ...` command group
    key: str  # the manifest's key
    name: str  # Modal's name
    app: str
    web: (
        str | None
    )  # "llm" for an engine's server, "server" for a `kind: server`; a function's web kind; None when not on HTTP
    health_path: str | None = None
    requires_proxy_auth: bool = False
    served_model_name: str | None = None
    api_key_env: str | None = None  # env var a server reads its API key from
    ready_on_any_answer: bool = False  # a `kind: server` whose health path may answer non-2xx
    method: HttpMethod | None = None  # a fastapi_endpoint's HTTP method

    @property
    def ref(self) -> str:
        """`APP/NAME`: how `modal server info` and `modal function info` take a deployed object."""
        return f"{self.app}/{self.name}"

    @property
    def label(self) -> str:
        return f"{self.kind} {self.key}"


@dataclass(frozen=True)
class ModalNames:
    app: str
    env: str | None  # what `--env` passes; None leaves the environment to Modal
    objects: tuple[ModalObject, ...]

    @property
    def http_objects(self) -> tuple[ModalObject, ...]:
        """LLM servers and web endpoints: what a smoke check calls."""
        return tuple(o for o in self.objects if o.web is not None)

    def by_key(self, key: str) -> ModalObject:
        for obj in self.objects:
            if obj.key == key:
                return obj
        known = ", ".join(o.key for o in self.objects) or "none"
        raise UserError(f"{key!r} is not a service or function of app {self.app} (known: {known})")

    def by_modal_name(self, kind: str, name: str) -> ModalObject | None:
        return next((o for o in self.objects if o.kind == kind and o.name == name), None)


def modal_names(blueprint: Blueprint, env: str | None) -> ModalNames:
    objects = [_server(blueprint.app, s) for s in blueprint.servers]
    objects += [_function(blueprint.app, f) for f in blueprint.functions]
    return ModalNames(app=blueprint.app, env=env, objects=tuple(objects))


def shown_names(names: ModalNames, origins: Origins) -> ModalNames:
    """`names` as humans see them in a dry run: a name that came from a variable is its reference
    (`${APP}`), as the plan shows it; the real names are what the deploy itself uses."""
    app = origins.text(("app",), names.app)
    objects = []
    for obj in names.objects:
        collection = "servers" if obj.kind == "server" else "functions"
        served = obj.served_model_name
        if served is not None:
            served = origins.text((collection, obj.key, "served_model_name"), served)
        name = origins.text((collection, obj.key, "name"), obj.name)
        objects.append(replace(obj, app=app, name=name, served_model_name=served))
    return replace(names, app=app, objects=tuple(objects))


def _server(app: str, spec: ServerSpec) -> ModalObject:
    if spec.kind == "server":  # no engine, no model: checked by its health path alone
        return ModalObject(
            kind="server",
            key=spec.key,
            name=spec.name,
            app=app,
            web="server",
            health_path=spec.health_path,
            requires_proxy_auth=spec.requires_proxy_auth,
            ready_on_any_answer=spec.ready_on_any_answer,
        )
    flag = get_engine(spec.engine).api_key_flag
    api_key = next((a.env for a in spec.secret_args if flag and a.flag == flag), None)
    return ModalObject(
        kind="server",
        key=spec.key,
        name=spec.name,
        app=app,
        web="llm",
        health_path=spec.health_path,
        requires_proxy_auth=spec.requires_proxy_auth,
        served_model_name=spec.served_model_name,
        api_key_env=api_key,
    )


def _function(app: str, spec: FunctionSpec) -> ModalObject:
    web = spec.web
    return ModalObject(
        kind="function",
        key=spec.key,
        name=spec.name,
        app=app,
        web=web.kind if web else None,
        requires_proxy_auth=bool(web and web.requires_proxy_auth),
        method=web.method if web else None,
    )
