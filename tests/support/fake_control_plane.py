"""A small fake of Modal's control plane, so tests can see what `modal deploy` really sends.

Modal's client talks gRPC (grpclib) to `MODAL_SERVER_URL`. This is a grpclib server on a local
unix socket that answers just the RPCs a 1.6.4 deploy makes (app lookup, create, heartbeat and
publish, environment, image / mount / secret / volume get-or-create, the mount existence check,
function precreate / create; a server is a function with `is_server` in 1.6.4, so no class RPC),
hands out made-up object ids, and records every request message as it arrived. For preflight's
cache check it also holds volumes a test fills (`volume_files`): `Volume.from_name(...).hydrate()`
finds only those (NOT_FOUND otherwise, as Modal answers), and `Volume.listdir(path)` lists what
each holds (VolumeListFiles2 for a v2 volume, VolumeListFiles for v1); a path with nothing at
or below it is NOT_FOUND, as in the mock servicer of Modal's own client tests. Every other RPC of `modal_proto.api_grpc.ModalClientBase` is
recorded too and answered UNIMPLEMENTED, so a client version that starts calling something new
fails loudly instead of being answered with a guess.

Nothing here reaches a network; the client needs only `MODAL_SERVER_URL=unix://<socket>` and a
made-up token (`client_environment`). The idea follows Modal's own client test suite, which runs
the CLI against a fake servicer; the code is ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpclib.const
import grpclib.server
from google.protobuf.message import Message
from grpclib import GRPCError, Status
from modal_proto import api_grpc, api_pb2

SERVICE_PREFIX = "/modal.client.ModalClient/"


@dataclass
class Call:
    """One RPC as the client sent it (the decoded request message) and what the fake answered:
    the reply message (the last one of a stream), None when it answered UNIMPLEMENTED."""

    method: str
    request: Message
    reply: Message | None = None


def _rpc_table() -> dict[str, grpclib.const.Handler]:
    """Every RPC of the generated base class, with its cardinality and message types."""
    stubs = {name: (lambda self, stream: None) for name in api_grpc.ModalClientBase.__abstractmethods__}
    every_rpc = type("_EveryRpc", (api_grpc.ModalClientBase,), stubs)
    return every_rpc().__mapping__()


class FakeControlPlane:
    """Answers a deploy; `calls` holds every request in arrival order (thread-safe appends)."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path
        self.calls: list[Call] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # None: every volume name exists, empty (what a deploy needs). A mapping: only these
        # volumes exist, each holding these file paths (relative to its root, `/`-separated).
        self.volume_files: dict[str, tuple[str, ...]] | None = None
        self._volume_ids: dict[str, str] = {}  # volume id -> name
        self._answers: dict[str, Callable[[Message], Message]] = {
            "AppGetByDeploymentName": lambda r: api_pb2.AppGetByDeploymentNameResponse(),
            "AppCreate": lambda r: api_pb2.AppCreateResponse(app_id=self._id("ap")),
            "AppPublish": lambda r: api_pb2.AppPublishResponse(url="https://fake.modal.invalid", deployed_at=1.0),
            "AppClientDisconnect": lambda r: _empty(),
            "AppHeartbeat": lambda r: _empty(),
            "EnvironmentGetOrCreate": self._environment,
            "ImageGetOrCreate": lambda r: api_pb2.ImageGetOrCreateResponse(
                image_id=self._id("im"),
                result=api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_SUCCESS),
            ),
            # Every file is "already stored": the client then names each file (path and sha256) in
            # MountGetOrCreate without uploading its bytes, which is all a test compares.
            "MountBatchedCheckExistence": lambda r: api_pb2.MountBatchedCheckExistenceResponse(),
            "MountPutFile": lambda r: api_pb2.MountPutFileResponse(exists=True),
            "MountGetOrCreate": lambda r: api_pb2.MountGetOrCreateResponse(
                mount_id=self._id("mo"), handle_metadata=api_pb2.MountHandleMetadata(content_checksum_sha256_hex="0")
            ),
            "SecretGetOrCreate": lambda r: api_pb2.SecretGetOrCreateResponse(secret_id=self._id("st")),
            "VolumeGetOrCreate": self._volume_get_or_create,
            "FunctionPrecreate": self._function_precreate,
            "FunctionCreate": self._function_create,
            # A `kind: cls` function: the class object beside its class service function.
            "ClassCreate": lambda r: api_pb2.ClassCreateResponse(
                class_id=self._id("cs"), handle_metadata=api_pb2.ClassHandleMetadata()
            ),
        }
        self._streams: dict[str, Callable[[Message], list[Message]]] = {
            "ImageJoinStreaming": lambda r: [
                api_pb2.ImageJoinStreamingResponse(
                    result=api_pb2.GenericResult(status=api_pb2.GenericResult.GENERIC_STATUS_SUCCESS), eof=True
                )
            ],
            "VolumeListFiles2": lambda r: [api_pb2.VolumeListFiles2Response(entries=self._volume_entries(r))],
            "VolumeListFiles": lambda r: [api_pb2.VolumeListFilesResponse(entries=self._volume_entries(r))],
        }

    # -- what the client sees -----------------------------------------------------------------

    def __mapping__(self) -> dict[str, grpclib.const.Handler]:
        mapping = {}
        for path, rpc in _rpc_table().items():
            method = path.removeprefix(SERVICE_PREFIX)
            mapping[path] = grpclib.const.Handler(
                self._handler(method, rpc.cardinality), rpc.cardinality, rpc.request_type, rpc.reply_type
            )
        return mapping

    def _handler(self, method: str, cardinality: grpclib.const.Cardinality) -> Callable[[Any], Any]:
        async def handle(stream: Any) -> None:
            request = await stream.recv_message()
            call = Call(method, request)
            with self._lock:
                self.calls.append(call)
            if cardinality is grpclib.const.Cardinality.UNARY_STREAM and method in self._streams:
                for reply in self._streams[method](request):
                    call.reply = reply
                    await stream.send_message(reply)
                return
            answer = self._answers.get(method)
            if answer is None or cardinality is not grpclib.const.Cardinality.UNARY_UNARY:
                raise GRPCError(Status.UNIMPLEMENTED, f"the fake control plane does not implement {method}")
            call.reply = answer(request)
            await stream.send_message(call.reply)

        return handle

    # -- answers that need more than an id ------------------------------------------------------

    def _id(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}-fake{next(self._ids):06d}"

    def _environment(self, request: Message) -> Message:
        return api_pb2.EnvironmentGetOrCreateResponse(
            environment_id=self._id("en"),
            metadata=api_pb2.EnvironmentMetadata(
                name=request.deployment_name or "main",
                settings=api_pb2.EnvironmentSettings(image_builder_version="2025.06", webhook_suffix="fake"),
            ),
        )

    def _volume_get_or_create(self, request: Message) -> Message:
        name = request.deployment_name
        create = request.object_creation_type == api_pb2.OBJECT_CREATION_TYPE_CREATE_IF_MISSING
        if self.volume_files is not None and name not in self.volume_files:
            if not create:
                raise GRPCError(
                    Status.NOT_FOUND, f"Volume '{name}' not found in environment '{request.environment_name}'"
                )
            self.volume_files[name] = ()
        volume_id = self._id("vo")
        with self._lock:
            self._volume_ids[volume_id] = name
        version = api_pb2.VOLUME_FS_VERSION_V2
        return api_pb2.VolumeGetOrCreateResponse(
            volume_id=volume_id, version=version, metadata=api_pb2.VolumeMetadata(name=name, version=version)
        )

    def _volume_entries(self, request: Message) -> list[Message]:
        """What Modal lists at `path` of a volume: the file itself, or the folder's entries
        (its children; every descendant with `recursive`); NOT_FOUND when nothing is there."""
        name = self._volume_ids.get(request.volume_id)
        files = (self.volume_files or {}).get(name or "", ())
        path = request.path.strip("/")
        if path in files:
            return [api_pb2.FileEntry(path=path, type=api_pb2.FileEntry.FileType.FILE, size=1)]
        prefix = f"{path}/" if path else ""
        entries: dict[str, int] = {}
        for file in (f for f in files if f.startswith(prefix)):
            parts = file[len(prefix) :].split("/")
            depth = len(parts) if request.recursive else 1
            for index in range(depth):
                below = prefix + "/".join(parts[: index + 1])
                entries.setdefault(
                    below,
                    api_pb2.FileEntry.FileType.FILE
                    if index == len(parts) - 1
                    else api_pb2.FileEntry.FileType.DIRECTORY,
                )
        if not entries:
            raise GRPCError(Status.NOT_FOUND, f"No such file or directory: {request.path}")
        return [api_pb2.FileEntry(path=p, type=t, size=1) for p, t in sorted(entries.items())]

    def _function_precreate(self, request: Message) -> Message:
        return api_pb2.FunctionPrecreateResponse(
            function_id=self._id("fu"),
            handle_metadata=api_pb2.FunctionHandleMetadata(function_name=request.function_name),
        )

    def _function_create(self, request: Message) -> Message:
        # Modal answers with the definition it stored, as FunctionData (one ranked copy per GPU
        # choice); the client reads its FunctionInfo from that. Echo what was sent.
        if request.HasField("function_data"):
            data = request.function_data
        else:
            data = api_pb2.FunctionData(
                function_name=request.function.function_name,
                function_type=request.function.function_type,
                webhook_config=request.function.webhook_config,
                ranked_functions=[api_pb2.FunctionData.RankedFunction(rank=0, function=request.function)],
            )
        return api_pb2.FunctionCreateResponse(
            function_id=request.existing_function_id or self._id("fu"),
            function_data=data,
            handle_metadata=api_pb2.FunctionHandleMetadata(
                function_name=data.function_name,
                function_type=data.function_type,
                web_url="https://fake.modal.invalid" if data.HasField("webhook_config") else "",
            ),
        )

    # -- what a test reads ----------------------------------------------------------------------

    def unanswered(self) -> list[str]:
        """Methods the client called that this fake does not implement (a test should see none)."""
        known = set(self._answers) | set(self._streams)
        return sorted({call.method for call in self.calls if call.method not in known})


def _empty() -> Message:
    from google.protobuf import empty_pb2

    return empty_pb2.Empty()


@contextlib.contextmanager
def running(socket_path: Path) -> Iterator[FakeControlPlane]:
    """Serve a fresh fake on `socket_path` in a background thread for the duration of the block."""
    fake = FakeControlPlane(socket_path)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server: grpclib.server.Server | None = None

    def serve() -> None:
        nonlocal server
        asyncio.set_event_loop(loop)
        # Built inside the loop's thread: grpclib binds a server to the running loop.
        server = grpclib.server.Server([fake])
        loop.run_until_complete(server.start(path=str(socket_path)))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, name="fake-modal-control-plane", daemon=True)
    thread.start()
    if not started.wait(timeout=30):
        raise RuntimeError("the fake control plane did not start")
    try:
        yield fake
    finally:

        async def shutdown() -> None:
            assert server is not None
            server.close()
            await server.wait_closed()

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()


def client_environment(socket_path: Path) -> dict[str, str]:
    """Environment variables that point Modal's client at the fake, with a made-up token."""
    return {
        "MODAL_SERVER_URL": f"unix://{socket_path}",
        "MODAL_TOKEN_ID": "ak-fake-token-id",
        "MODAL_TOKEN_SECRET": "as-fake-token-secret",
        # No ~/.modal.toml profile may leak into a test, nor its workspace or defaults.
        "MODAL_CONFIG_PATH": str(socket_path.parent / "no-modal.toml"),
    }
