"""Blueprint -> `modal.App`, with every function and server bound into the entry module's globals.

The same Blueprint builds the same objects in the same order, locally and in every container:
Modal's container re-runs the entry module and pairs each function's dependencies (secrets,
mounts, image, volumes) with the object ids recorded at deploy time by position. So this reads
nothing but the Blueprint — no environment, no files, no clock.

The Blueprint travels to the container as an app-level secret `MDEPLOY_BLUEPRINT` (Modal applies
app-level secrets to every function and server). `build_app` attaches it itself, on both sides,
so the dependency lists match by construction: the container's copy is re-encoded from the
decoded Blueprint, which gives the same value (the codec is deterministic).

Env entries that came from a `${VAR}` are in the Blueprint as the manifest's text, not their value.
On the deploying machine `env_values` supplies the values, which go into each function's env
secret (`env=`, Modal's `Secret.from_dict`) and so reach its containers; in the container there
are none, and the same secret is built with the Blueprint's text in their place. Modal pairs a
container's dependencies with the ids recorded at deploy by position, never by content, so only
the names and their order must agree — and they come from the Blueprint on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import modal

from engine.blueprint.codec import ENV_VAR, encode_for_env
from engine.blueprint.model import Blueprint, ImageSpec
from engine.modal_backend.calls import building
from engine.modal_backend.classes import add_class
from engine.modal_backend.functions import add_function
from engine.modal_backend.images import ImageContext, build_image, build_images
from engine.modal_backend.resources import build_resources
from engine.modal_backend.servers import add_server

# Where build_app leaves the named-object handles in the namespace (Dicts and Queues are not
# attached to the App; see resources.py).
RESOURCES_SYMBOL = "mdeploy_resources"
# `modal deploy engine/entry.py` looks for the App under this name in the entry module.
APP_SYMBOL = "app"


def build_app(
    blueprint: Blueprint,
    namespace: MutableMapping[str, Any],
    module_name: str,
    *,
    in_container: bool | None = None,
    env_values: Mapping[tuple[str, str], Mapping[str, str]] | None = None,
    import_build_functions: bool | None = None,
    project_root: Path | None = None,
    image_builder: Callable[[ImageSpec, ImageContext | None], modal.Image] = build_image,
) -> modal.App:
    """Build the app and bind each function/server in `namespace` under its symbol.

    `import_build_functions`: import the handlers of `run_function` image steps (default: unless
    in a container); the offline checks pass False, as they never run user code.
    `project_root`: where the images' local paths start (the deploy side's `local_files_root`).

    `env_values`: ("functions" | "servers", key) -> {env name: value}, the deploy side's values
    of env entries the Blueprint holds as `${...}` text (the planner's PlannedApp.env_values).

    `module_name` must be the name under which `namespace`'s module sits in `sys.modules`: Modal
    records it, and the container imports it to find the symbols again. `in_container` defaults to
    `not modal.is_local()`; it only decides whether handler signatures are exposed (see handlers.py).
    `image_builder`: images.build_image, or the offline check's memo of it (offline_build.py).
    """
    if in_container is None:
        in_container = not modal.is_local()
    _check_symbols(blueprint, namespace)
    with building((), "App"):
        app = modal.App(
            blueprint.app,
            tags=blueprint.tags or None,
            secrets=[modal.Secret.from_dict({ENV_VAR: encode_for_env(blueprint)})],
        )
    resources = build_resources(blueprint)
    images = build_images(
        blueprint,
        ImageContext(
            root=project_root,
            secrets=resources.secrets,
            volumes=resources.volumes,
            import_build_functions=not in_container if import_build_functions is None else import_build_functions,
        ),
        image_builder,
    )
    values = env_values or {}
    for function in blueprint.functions:
        add = add_class if function.cls is not None else add_function
        namespace[function.symbol] = add(
            app,
            function,
            module_name,
            images,
            resources,
            in_container=in_container,
            env_values=values.get(("functions", function.key)),
        )
    for server in blueprint.servers:
        namespace[server.symbol] = add_server(
            app, server, module_name, images, resources, values.get(("servers", server.key))
        )
    namespace[RESOURCES_SYMBOL] = resources
    return app


def _check_symbols(blueprint: Blueprint, namespace: MutableMapping[str, Any]) -> None:
    symbols = [f.symbol for f in blueprint.functions] + [s.symbol for s in blueprint.servers]
    seen: set[str] = set()
    for symbol in symbols:
        if not symbol.isidentifier():
            raise ValueError(f"symbol {symbol!r} is not a Python identifier")
        if symbol in seen:
            raise ValueError(f"symbol {symbol!r} is used twice in the Blueprint")
        if symbol in namespace or symbol in (APP_SYMBOL, RESOURCES_SYMBOL):
            raise ValueError(f"symbol {symbol!r} would replace a name the entry module already defines")
        seen.add(symbol)
