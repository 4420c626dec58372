"""Named Modal objects of a Blueprint -> lazy handles: volumes, secrets, bucket mounts, dicts, queues.

Everything here is a lazy constructor (`Volume.from_name`, `Secret.from_name`, `CloudBucketMount`,
`Dict.from_name`): declaring them does no I/O. Volumes, secrets and bucket mounts are attached to
the functions and servers that mount or name them, so `modal deploy` creates or resolves them.

Dicts and queues are not attached to a Modal App (Modal has no such parameter), so they are
tracked here instead, as `from_name(..., create_if_missing=True)` handles: whatever touches one
first (a handler, a local script) creates it.
"""

from __future__ import annotations

import modal

from engine.blueprint.model import Blueprint, ContainerSpec
from engine.modal_backend.calls import building


class Resources:
    """Lazy handles keyed by the Blueprint's local keys.

    A plain class, not a dataclass: every container builds this module, and a dataclass costs
    about half a millisecond to create at import.
    """

    def __init__(
        self,
        *,
        volumes: dict[str, modal.Volume],
        secrets: dict[str, modal.Secret],
        buckets: dict[str, modal.CloudBucketMount],
        dicts: dict[str, modal.Dict],
        queues: dict[str, modal.Queue],
    ):
        self.volumes = volumes
        self.secrets = secrets
        self.buckets = buckets
        self.dicts = dicts
        self.queues = queues


def build_resources(blueprint: Blueprint) -> Resources:
    secrets: dict[str, modal.Secret] = {}
    for spec in blueprint.secrets:
        with building(("secrets", spec.key), "Secret.from_name"):
            secrets[spec.key] = modal.Secret.from_name(spec.name, required_keys=list(spec.required_keys))
    volumes: dict[str, modal.Volume] = {}
    for volume in blueprint.volumes:
        with building(("volumes", volume.key), "Volume.from_name"):
            volumes[volume.key] = modal.Volume.from_name(volume.name, create_if_missing=volume.create_if_missing)
    buckets: dict[str, modal.CloudBucketMount] = {}
    for bucket in blueprint.buckets:
        with building(("buckets", bucket.key), "CloudBucketMount"):
            buckets[bucket.key] = modal.CloudBucketMount(
                bucket.bucket_name,
                secret=secrets[bucket.secret] if bucket.secret else None,
                read_only=bucket.read_only,
                key_prefix=bucket.key_prefix,
                bucket_endpoint_url=bucket.bucket_endpoint_url,
                requester_pays=bucket.requester_pays,
            )
    dicts: dict[str, modal.Dict] = {}
    for named_dict in blueprint.dicts:
        with building(("dicts", named_dict.key), "Dict.from_name"):
            dicts[named_dict.key] = modal.Dict.from_name(
                named_dict.name, create_if_missing=named_dict.create_if_missing
            )
    queues: dict[str, modal.Queue] = {}
    for queue in blueprint.queues:
        with building(("queues", queue.key), "Queue.from_name"):
            queues[queue.key] = modal.Queue.from_name(queue.name, create_if_missing=queue.create_if_missing)
    return Resources(volumes=volumes, secrets=secrets, buckets=buckets, dicts=dicts, queues=queues)


def container_mounts(
    container: ContainerSpec, resources: Resources
) -> dict[str, modal.Volume | modal.CloudBucketMount]:
    """The `volumes=` argument of a function or server: mount path -> volume or bucket mount."""
    mounts: dict[str, modal.Volume | modal.CloudBucketMount] = {}
    for mount in container.mounts:
        if mount.kind == "volume":
            mounts[mount.path] = resources.volumes[mount.source]
        elif mount.kind == "bucket":
            mounts[mount.path] = resources.buckets[mount.source]
        else:
            raise ValueError(f"mount {mount.path!r}: unknown kind {mount.kind!r} (volume | bucket)")
    return mounts


def container_secrets(container: ContainerSpec, resources: Resources) -> list[modal.Secret]:
    return [resources.secrets[key] for key in container.secrets]
