"""Blueprint -> the source of a standalone Modal app, as a person would write it.

`render_app` reads only the Blueprint (docs/architecture.md: backends never re-read a manifest) and returns
the text of one Python file that imports only `modal` and the standard library: a docstring, the
constants, the images, the named objects, then one decorated function or class per object. The
output is deterministic (same Blueprint, same bytes) and holds no secret values — the Blueprint
has none, only secret names and the environment variables a secret provides. An env entry that
came from a `${VAR}` is not written as a value either: the file reads it from the shell that runs
`modal deploy` (`from_deploy_env("VAR")`), as a hand-written app would, and Modal carries it to
the containers in the function's env secret.
"""

from __future__ import annotations

from collections.abc import Mapping

from engine.blueprint.model import Blueprint, BucketSpec, FunctionSpec, SecretSpec, ServerSpec, VolumeSpec
from engine.eject.container import DEPLOY_ENV_HELPER, EnvParts, Names
from engine.eject.functions import RUN_HELPER, RUN_HELPER_NAMES, awaits_handler, calls_run_helper, render_function
from engine.eject.images import (
    BUILD_STEP_FUNCTION,
    BUILD_STEP_HELPER,
    ROOT_CONSTANT,
    render_image,
    root_constant,
    secret_call,
    uses_build_functions,
    uses_build_prefetch,
    uses_local_files,
    volume_call,
)
from engine.eject.prefetch import BUILD_PREFETCH_NAME, prefetch_function
from engine.eject.pysrc import call, py_identifier, py_literal, py_str
from engine.eject.servers import constants_for, render_server, render_server_constants, server_helpers
from engine.errors import UserError

# Module-level names the ejected file defines besides the objects' own symbols.
_FILE_NAMES = {
    "app",
    "modal",
    "os",
    "subprocess",
    "time",
    "urllib",
    "asyncio",
    "inspect",
    "MINUTES",
    "HOURS",
    "wait_until_healthy",
    "wait_until_answering",
    "warm_up",
    "post",
    *RUN_HELPER_NAMES,
    DEPLOY_ENV_HELPER,
    ROOT_CONSTANT,
    BUILD_STEP_HELPER,
    "pathlib",
    "importlib",
}

# Defined in the file when an env value comes from the deploying shell. Every container imports
# the file again, and only the deploy needs the value (it travels in the env secret), so a
# container must not fail on a variable its own shell never had.
_DEPLOY_ENV_FUNCTION = f'''def {DEPLOY_ENV_HELPER}(name: str, default: str | None = None) -> str:
    """The deploying shell's value of `name` (the manifest's ${{name}}, or ${{name:-default}}).
    Only `modal deploy` reads it; containers get the value from the env secret made at deploy."""
    if not modal.is_local():
        return ""
    value = os.environ.get(name)
    if default is not None and not value:
        return default
    if value is None:
        raise RuntimeError(f"environment variable {{name}} is not set; this app reads it at deploy")
    return value'''


def render_app(
    blueprint: Blueprint,
    *,
    filename: str = "app.py",
    env_from_variables: Mapping[tuple[str, str], Mapping[str, EnvParts]] | None = None,
    project_root: str = ".",
) -> str:
    """`env_from_variables`: ("functions" | "servers", key) -> {env name: its manifest text, as
    literal text and (variable, default) pairs}, for the entries that came from variables.
    `project_root`: the manifest's project root as a path from the file's folder (local image
    paths start there)."""
    names = Names.of(blueprint)
    _check_symbols_are_free(blueprint, names)
    only_server = len(blueprint.servers) == 1
    server_constants = [constants_for(s, only_server=only_server) for s in blueprint.servers]
    from_shell = env_from_variables or {}

    objects = [render_function(f, names, dict(from_shell.get(("functions", f.key), {}))) for f in blueprint.functions]
    objects += [
        render_server(s, names, c, dict(from_shell.get(("servers", s.key), {})))
        for s, c in zip(blueprint.servers, server_constants)
    ]

    constants = []
    for spec, consts in zip(blueprint.servers, server_constants):
        constants += render_server_constants(spec, consts)

    storage = [_volume(v, names) for v in blueprint.volumes]
    storage += [_secret(s, names) for s in blueprint.secrets]
    storage += [_bucket(b, names) for b in blueprint.buckets]
    storage += [
        f"{py_identifier(n.key, suffix='_dict')} = modal.Dict.from_name({py_str(n.name)}, "
        f"create_if_missing={n.create_if_missing})"
        for n in blueprint.dicts
    ]
    storage += [
        f"{py_identifier(n.key, suffix='_queue')} = modal.Queue.from_name({py_str(n.name)}, "
        f"create_if_missing={n.create_if_missing})"
        for n in blueprint.queues
    ]

    reads_shell = any(from_shell.values())
    secrets_by_key = {s.key: s for s in blueprint.secrets}
    volumes_by_key = {v.key: v for v in blueprint.volumes}
    if uses_local_files(blueprint):
        constants.append(root_constant(project_root))
    body_sections = [
        _section("Values read from the deploying shell", _DEPLOY_ENV_FUNCTION if reads_shell else ""),
        _section(
            "Image build steps",
            "\n\n\n".join(
                [BUILD_STEP_FUNCTION] * uses_build_functions(blueprint)
                + [prefetch_function(BUILD_PREFETCH_NAME)] * uses_build_prefetch(blueprint)
            ),
        ),
        _section(
            "Container images", "\n\n".join(render_image(i, secrets_by_key, volumes_by_key) for i in blueprint.images)
        ),
        _section("Volumes, secrets and other named objects", "\n".join(storage)),
        _section(
            "Helpers for the functions below", RUN_HELPER if any(map(calls_run_helper, blueprint.functions)) else ""
        ),
        _section("Helpers for the servers below", server_helpers(blueprint.servers)),
        _section("Functions", "\n\n\n".join(objects[: len(blueprint.functions)])),
        _section("Servers", "\n\n\n".join(objects[len(blueprint.functions) :])),
    ]
    body = "\n\n\n".join(s for s in body_sections if s)

    uses_hours = "HOURS" in body
    head_constants = ["MINUTES = 60  # seconds"] + (["HOURS = 60 * MINUTES"] if uses_hours else [])
    head_constants += constants

    parts = [
        _docstring(blueprint, filename),
        _imports(blueprint, reads_shell),
        "\n".join(head_constants),
        _app_line(blueprint),
        body,
    ]
    return "\n\n".join(parts) + "\n"


def _app_line(blueprint: Blueprint) -> str:
    if not blueprint.tags:
        return f"app = modal.App({py_str(blueprint.app)})"
    return f"app = modal.App({py_str(blueprint.app)}, tags={py_literal(dict(sorted(blueprint.tags.items())))})"


def _check_symbols_are_free(blueprint: Blueprint, names: Names) -> None:
    """A function called `app` or `post` would replace a name the file needs: say so plainly."""
    taken = set(_FILE_NAMES)
    for table in (names.images, names.volumes, names.secrets, names.buckets):
        taken |= set(table.values())
    taken |= {py_identifier(d.key, suffix="_dict") for d in blueprint.dicts}
    taken |= {py_identifier(q.key, suffix="_queue") for q in blueprint.queues}
    specs: tuple[FunctionSpec | ServerSpec, ...] = (*blueprint.functions, *blueprint.servers)
    for spec in specs:
        if spec.symbol in taken:
            raise UserError(
                f"{spec.key!r} would be defined as `{spec.symbol}` in the ejected file, which already "
                "uses that name; rename it in the manifest"
            )


def _docstring(blueprint: Blueprint, filename: str) -> str:
    return (
        f'"""{blueprint.app}: a Modal app ejected by `mdeploy eject` from {blueprint.source}\n'
        f"(environment {blueprint.environment}).\n"
        "\n"
        "From here on this file is yours: it imports only `modal` and the standard library, and\n"
        "nothing reads the manifest any more. Deploy it with:\n"
        "\n"
        f"    modal deploy {filename} --env {blueprint.environment}\n"
        '"""'
    )


def _imports(blueprint: Blueprint, reads_shell: bool) -> str:
    stdlib = []
    if any(calls_run_helper(f) or awaits_handler(f) for f in blueprint.functions):
        stdlib += ["import asyncio", "import inspect"]
    if reads_shell or any(s.secret_args for s in blueprint.servers):
        stdlib.append("import os")
    if blueprint.servers:
        stdlib += ["import subprocess", "import time", "import urllib.request"]
    if uses_build_functions(blueprint):
        stdlib.append("import importlib")
    if uses_local_files(blueprint):
        stdlib.append("import pathlib")
    modal_imports = ["import modal"]
    if any(s.cluster is not None for s in blueprint.servers):
        modal_imports.append("import modal.experimental  # get_cluster_info(): a node's rank")
    return "\n".join(sorted(stdlib) + ([""] if stdlib else []) + modal_imports)


def _section(title: str, content: str) -> str:
    return f"# ## {title}\n\n{content}" if content else ""


def _volume(spec: VolumeSpec, names: Names) -> str:
    return f"{names.volumes[spec.key]} = {volume_call(spec)}"


def _secret(spec: SecretSpec, names: Names) -> str:
    return f"{names.secrets[spec.key]} = {secret_call(spec)}"


def _bucket(spec: BucketSpec, names: Names) -> str:
    kwargs: list[tuple[str, str]] = []
    if spec.secret:
        kwargs.append(("secret", names.secrets[spec.secret]))
    if spec.read_only:
        kwargs.append(("read_only", "True"))
    if spec.key_prefix:
        kwargs.append(("key_prefix", py_str(spec.key_prefix)))
    if spec.bucket_endpoint_url:
        kwargs.append(("bucket_endpoint_url", py_str(spec.bucket_endpoint_url)))
    if spec.requester_pays:
        kwargs.append(("requester_pays", "True"))
    return f"{names.buckets[spec.key]} = {call('modal.CloudBucketMount', [py_str(spec.bucket_name)], kwargs)}"
