"""ContainerSpec -> the keyword arguments `app.function` and `app.server` share.

Every value comes from the Blueprint as it is; the only translations are Modal's spellings
(one GPU as a string, a fallback list as a list; `()` as None). A keyword whose Blueprint value
means "not set" is left out, so Modal's own handling of "unset" applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import modal

from engine.blueprint.model import ContainerSpec
from engine.modal_backend.resources import Resources, container_mounts, container_secrets


def gpu_argument(gpu: tuple[str, ...]) -> str | list[str] | None:
    if not gpu:
        return None
    return gpu[0] if len(gpu) == 1 else list(gpu)


def region_argument(region: tuple[str, ...]) -> list[str] | None:
    return list(region) if region else None


def shared_container_kwargs(
    container: ContainerSpec,
    images: dict[str, modal.Image],
    resources: Resources,
    env_values: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`env_values`: on the deploying machine, the values of env entries the Blueprint holds as
    the manifest's `${...}` text (see app.build_app); None in the container."""
    scaling = container.scaling
    kwargs: dict[str, Any] = {
        "image": images[container.image],
        "gpu": gpu_argument(container.gpu),
        "cpu": container.cpu,
        "memory": container.memory,
        "ephemeral_disk": container.ephemeral_disk,
        "secrets": container_secrets(container, resources),
        "volumes": container_mounts(container, resources),
        "min_containers": scaling.min_containers,
        "max_containers": scaling.max_containers,
        "buffer_containers": scaling.buffer_containers,
        "scaledown_window": scaling.scaledown_window,
        "cloud": container.cloud,
        "nonpreemptible": container.nonpreemptible,
        "enable_memory_snapshot": container.enable_memory_snapshot,
    }
    if container.env:
        # Sorted: the same env gives the same secret however the dict was built. Only values
        # change with `env_values`, never names: the container pairs dependencies by position.
        env = {**container.env, **{k: v for k, v in (env_values or {}).items() if k in container.env}}
        kwargs["env"] = dict(sorted(env.items()))
    if container.gpu_snapshot:
        kwargs["experimental_options"] = {"enable_gpu_snapshot": True}
    return kwargs
