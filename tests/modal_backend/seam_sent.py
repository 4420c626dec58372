"""What one `modal deploy` sent, read from the fake control plane's record into plain lookups.

The client creates objects by value (a secret by name or by its env dict, a volume by name, an
image layer by its Dockerfile commands on top of a base image id, a mount by its file list) and
then refers to them by the ids the control plane handed out. `SentApp` keeps both sides, so a
test can follow a function's `secret_ids`, `volume_mounts`, `mount_ids` and `image_id` back to
what was created for them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from google.protobuf.message import Message

from tests.support.fake_control_plane import Call

BASE_TAG_LINE = "FROM base"  # how Modal starts a layer built on top of another image


@dataclass(frozen=True)
class ImageLayer:
    """One ImageGetOrCreate: its Dockerfile commands (without `FROM base`) and its context mount."""

    commands: tuple[str, ...]
    context_mount_id: str
    build_function: Message | None = None  # a `run_function` layer: the builder's FunctionCreate definition


@dataclass
class SentFunction:
    """A FunctionCreate: one definition per GPU choice (a fallback list is sent ranked)."""

    name: str
    definitions: list[Message]

    @property
    def definition(self) -> Message:
        return self.definitions[0]


@dataclass
class SentApp:
    calls: list[Call]
    functions: dict[str, SentFunction] = field(default_factory=dict)
    published: Message | None = None
    secrets: dict[str, Message] = field(default_factory=dict)  # id -> SecretGetOrCreateRequest
    volumes: dict[str, Message] = field(default_factory=dict)  # id -> VolumeGetOrCreateRequest
    mounts: dict[str, Message] = field(default_factory=dict)  # id -> MountGetOrCreateRequest
    images: dict[str, Message] = field(default_factory=dict)  # id -> Image (the request's `image`)
    # id -> the ImageGetOrCreate's build_function_id (layers made by Image.run_function)
    image_builders: dict[str, str] = field(default_factory=dict)
    builders: dict[str, Message] = field(default_factory=dict)  # function id -> builder definition

    @classmethod
    def from_calls(cls, calls: list[Call]) -> SentApp:
        app = cls(calls=calls)
        for call in calls:
            request, reply = call.request, call.reply
            if call.method == "SecretGetOrCreate":
                app.secrets[reply.secret_id] = request
            elif call.method == "VolumeGetOrCreate":
                app.volumes[reply.volume_id] = request
            elif call.method == "MountGetOrCreate":
                app.mounts[reply.mount_id] = request
            elif call.method == "ImageGetOrCreate":
                app.images[reply.image_id] = request.image
                if request.build_function_id:
                    app.image_builders[reply.image_id] = request.build_function_id
            elif call.method == "FunctionCreate" and request.function.is_builder_function:
                # An image build step (Image.run_function), not a function of the app.
                app.builders[reply.function_id] = request.function
            elif call.method == "FunctionCreate":
                if request.HasField("function_data"):
                    data = request.function_data
                    ranked = sorted(data.ranked_functions, key=lambda r: r.rank)
                    sent = SentFunction(data.function_name, [r.function for r in ranked])
                else:
                    sent = SentFunction(request.function.function_name, [request.function])
                app.functions[sent.name] = sent
            elif call.method == "AppPublish":
                app.published = request
        return app

    # -- following ids back ---------------------------------------------------------------------

    def named_secret(self, secret_id: str) -> Message | None:
        """The SecretGetOrCreate of a secret looked up by name, or None (an env-dict secret)."""
        request = self.secrets.get(secret_id)
        return request if request is not None and request.deployment_name else None

    def env_dict(self, secret_id: str) -> dict[str, str] | None:
        """The env dict of an anonymous `Secret.from_dict` secret, or None for a named one."""
        request = self.secrets.get(secret_id)
        if request is None or request.deployment_name:
            return None
        return dict(request.env_dict)

    def image_layers(self, image_id: str) -> list[ImageLayer]:
        """The layers of an image, root first, each with its own commands."""
        layers: list[ImageLayer] = []
        current: str | None = image_id
        while current:
            image = self.images[current]
            commands = list(image.dockerfile_commands)
            builder = self.builders.get(self.image_builders.get(current, ""))
            if image.base_images and builder is None:
                if commands[:1] != [BASE_TAG_LINE]:
                    raise AssertionError(f"image {current}: a layer on a base image must start {BASE_TAG_LINE!r}")
                commands = commands[1:]
            layers.append(ImageLayer(tuple(commands), image.context_mount_id, builder))
            current = image.base_images[0].image_id if image.base_images else None
        return list(reversed(layers))

    def mounted_files(self, definition: Message) -> dict[str, str]:
        """Path in the container -> sha256, over every mount a function definition attaches."""
        files: dict[str, str] = {}
        for mount_id in definition.mount_ids:
            for entry in self.mounts[mount_id].files:
                files[entry.filename] = entry.sha256_hex
        return files

    def global_mount_names(self, definition: Message) -> list[str]:
        """Names of Modal's own mounts (the client package) a function definition attaches."""
        return sorted(self.mounts[m].deployment_name for m in definition.mount_ids if self.mounts[m].deployment_name)


def env_commands(commands: tuple[str, ...]) -> dict[str, str] | None:
    """`ENV K=V` commands -> {K: V} with the shell quoting undone; None if any command is not ENV."""
    env: dict[str, str] = {}
    for command in commands:
        if not command.startswith("ENV "):
            return None
        key, _, quoted = command[len("ENV ") :].partition("=")
        (value,) = shlex.split(quoted) or [""]
        env[key] = value
    return env
