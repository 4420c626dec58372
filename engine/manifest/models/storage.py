"""Named storage and shared objects: volumes, secrets, dicts, queues and cloud bucket mounts.

Each is a mapping entry keyed by a local name; `name` is the Modal object's name and defaults to
the key (`resolved_name(key)`). Secrets are referenced by name only: a manifest never holds a
secret's value.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, model_validator

from engine.manifest.models.base import StrictModel, TupleOf, fail
from engine.manifest.models.shorthands import EnvName, ModalName

DEFAULT_CREATE_IF_MISSING = True
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HTTP_URL = re.compile(r"^https?://[^\s/]+")

_NameField = Annotated[ModalName | None, Field(description="The Modal object's name; default: the manifest key.")]


class _Named(StrictModel):
    name: _NameField = None

    def resolved_name(self, key: str) -> str:
        """The Modal name of the object declared under `key`."""
        return self.name if self.name is not None else key


class Volume(_Named):
    """A Modal Volume, mounted by services and functions through `volumes: {/path: key}`."""

    create_if_missing: Annotated[bool, Field(description="Create the volume on deploy if it does not exist.")] = (
        DEFAULT_CREATE_IF_MISSING
    )


class Secret(_Named):
    """A Modal Secret, by name. Its values live in Modal, never in the manifest."""

    required_keys: Annotated[
        TupleOf[EnvName], Field(description="Keys the secret must hold; Modal checks them when attaching it.")
    ] = ()


class ModalDict(_Named):
    """A Modal Dict (a shared key-value store), created on deploy if missing."""

    create_if_missing: Annotated[bool, Field(description="Create the dict on deploy if it does not exist.")] = (
        DEFAULT_CREATE_IF_MISSING
    )


class Queue(_Named):
    """A Modal Queue, created on deploy if missing."""

    create_if_missing: Annotated[bool, Field(description="Create the queue on deploy if it does not exist.")] = (
        DEFAULT_CREATE_IF_MISSING
    )


class Bucket(StrictModel):
    """A cloud bucket mount (S3, R2, GCS through its S3 API), mounted through `buckets: {/path: key}`."""

    bucket: Annotated[str, Field(description="The bucket's name in its cloud.", min_length=1)]
    secret: Annotated[
        str | None, Field(description="Key of `secrets` holding the credentials; none for a public bucket.")
    ] = None
    read_only: Annotated[bool, Field(description="Mount read-only.")] = False
    key_prefix: Annotated[str | None, Field(description='Only objects under this prefix; must end with "/".')] = None
    endpoint_url: Annotated[str | None, Field(description="S3-compatible endpoint (R2, GCS); default: AWS S3.")] = None
    requester_pays: Annotated[bool, Field(description="The bucket is Requester Pays (needs `secret`).")] = False

    @model_validator(mode="after")
    def _check(self) -> Bucket:
        scheme = _URL_SCHEME.match(self.bucket)
        if scheme:
            name, _, prefix = self.bucket[scheme.end() :].partition("/")
            also = f" and key_prefix: {prefix.rstrip('/')}/" if prefix.strip("/") else ""
            raise fail(
                f"a bucket is given by its name, not by a URL ({scheme.group(1)}://...)",
                hint=f"write bucket: {name}{also}",
                at=("bucket",),
            )
        if "/" in self.bucket:
            name, _, prefix = self.bucket.partition("/")
            raise fail(
                "a bucket name cannot contain '/'",
                hint=f"write bucket: {name} and key_prefix: {prefix.rstrip('/')}/",
                at=("bucket",),
            )
        if self.endpoint_url is not None and not _HTTP_URL.match(self.endpoint_url):
            raise fail(
                "endpoint_url must be an http(s) URL",
                hint='e.g. "https://<account>.r2.cloudflarestorage.com"',
                at=("endpoint_url",),
            )
        if self.key_prefix is not None and not self.key_prefix.endswith("/"):
            raise fail('key_prefix must end with "/"', hint=f'write "{self.key_prefix}/"', at=("key_prefix",))
        if self.requester_pays and self.secret is None:
            raise fail(
                "a Requester Pays bucket needs credentials",
                hint="set `secret` to a key of `secrets`",
                at=("requester_pays",),
            )
        return self
