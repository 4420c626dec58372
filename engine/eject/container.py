"""Decorator arguments every function and server shares: image, resources, storage, scaling.

Arguments Modal would default to the same value are left out, so the file reads like a
hand-written one; values that change behaviour (timeouts, scaledown) are always written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.blueprint.model import Blueprint, ContainerSpec
from engine.eject.images import image_variable
from engine.eject.pysrc import mapping, py_duration, py_identifier, py_literal, py_str


@dataclass(frozen=True)
class Names:
    """Which module-level variable holds each named object, by manifest key."""

    images: dict[str, str]
    volumes: dict[str, str]
    secrets: dict[str, str]
    buckets: dict[str, str]

    @classmethod
    def of(cls, blueprint: Blueprint) -> Names:
        return cls(
            images={i.key: image_variable(i.key) for i in blueprint.images},
            volumes={v.key: py_identifier(v.key, suffix="_vol") for v in blueprint.volumes},
            secrets={s.key: py_identifier(s.key, suffix="_secret") for s in blueprint.secrets},
            buckets={b.key: py_identifier(b.key, suffix="_bucket") for b in blueprint.buckets},
        )


# An env value that came from variables: literal text and (variable, default) pairs, in order.
EnvParts = tuple[str | tuple[str, str | None], ...]
# The helper the ejected file defines when some env value comes from the deploying shell.
DEPLOY_ENV_HELPER = "from_deploy_env"


def container_kwargs(
    container: ContainerSpec,
    names: Names,
    *,
    server: bool,
    gpu_source: str | None = None,
    timeout: int | None = None,
    env_parts: Mapping[str, EnvParts] | None = None,
) -> list[tuple[str, str]]:
    """(keyword, source) pairs for `@app.function` / `@app.server`; `gpu_source` overrides the GPU
    literal (servers write `f"H100:{N_GPU}"`); `timeout` is a function's (servers have none);
    `env_parts` names the env entries that came from variables, which the file reads from the
    deploying shell instead of holding their values."""
    kwargs: list[tuple[str, str]] = [("image", names.images[container.image])]
    if gpu_source is not None:
        kwargs.append(("gpu", gpu_source))
    elif container.gpu:
        gpu = container.gpu[0] if len(container.gpu) == 1 else list(container.gpu)
        kwargs.append(("gpu", py_literal(gpu)))
    if container.cpu is not None:
        kwargs.append(("cpu", py_literal(container.cpu)))
    if container.memory is not None:
        kwargs.append(("memory", py_literal(container.memory)))
    if container.ephemeral_disk is not None:
        kwargs.append(("ephemeral_disk", py_literal(container.ephemeral_disk)))
    if container.region:
        region = container.region[0] if len(container.region) == 1 else list(container.region)
        kwargs.append(("compute_region" if server else "region", py_literal(region)))
    if container.cloud:
        kwargs.append(("cloud", py_str(container.cloud)))
    if container.nonpreemptible:
        kwargs.append(("nonpreemptible", "True"))
    if container.secrets:
        kwargs.append(("secrets", "[" + ", ".join(names.secrets[k] for k in container.secrets) + "]"))
    if container.env:
        parts = env_parts or {}
        pairs = [
            (py_str(k), env_expression(parts[k]) if k in parts else py_str(container.env[k]))
            for k in sorted(container.env)
        ]
        kwargs.append(("env", mapping(pairs)))
    if container.mounts:
        pairs = [
            (py_str(m.path), names.volumes[m.source] if m.kind == "volume" else names.buckets[m.source])
            for m in container.mounts
        ]
        kwargs.append(("volumes", mapping(pairs)))
    kwargs.extend(_scaling(container))
    if timeout is not None:
        kwargs.append(("timeout", py_duration(timeout)))
    if container.enable_memory_snapshot:
        kwargs.append(("enable_memory_snapshot", "True"))
    if container.gpu_snapshot:
        kwargs.append(("experimental_options", '{"enable_gpu_snapshot": True}'))
    return kwargs


def _scaling(container: ContainerSpec) -> list[tuple[str, str]]:
    scaling = container.scaling
    kwargs = []
    if scaling.min_containers:
        kwargs.append(("min_containers", str(scaling.min_containers)))
    if scaling.max_containers is not None:
        kwargs.append(("max_containers", str(scaling.max_containers)))
    if scaling.buffer_containers:
        kwargs.append(("buffer_containers", str(scaling.buffer_containers)))
    kwargs.append(("scaledown_window", py_duration(scaling.scaledown_window)))
    if scaling.scaleup_window is not None:  # servers only: the planner sets none for a function
        kwargs.append(("scaleup_window", py_duration(scaling.scaleup_window)))
    return kwargs


def env_expression(parts: EnvParts) -> str:
    """Python source that rebuilds an env value from the deploying shell, as the manifest's
    `${VAR}` / `${VAR:-default}` did: `"db-" + from_deploy_env("STAGE", "dev") + ".internal"`."""
    pieces = []
    for part in parts:
        if isinstance(part, str):
            pieces.append(py_str(part))
        else:
            name, default = part
            args = [py_str(name)] + ([py_str(default)] if default is not None else [])
            pieces.append(f"{DEPLOY_ENV_HELPER}({', '.join(args)})")
    return " + ".join(pieces) if pieces else '""'
