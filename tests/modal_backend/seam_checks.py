"""Blueprint vs what `modal deploy` sent, field by field.

Each check is registered with `@compares(...)`, naming the Blueprint fields (`Class.field`) it
compares with the sent messages. Every field of every Blueprint dataclass must be named by some
check or be listed in `NOT_SENT` with the reason it is no Modal parameter:
`test_every_blueprint_field_is_compared` derives the field list from the dataclasses, so a new
Blueprint field fails that test until someone decides how it reaches Modal.

The expected values are written from what the Modal parameters mean (a GPU "H100:2" is
`gpu_config {gpu_type: "H100", count: 2}`, cpu 2.0 is `milli_cpu: 2000`, ...), never by calling
the backend: the point is to catch the backend dropping or bending a value on its way.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from modal_proto import api_pb2

from engine.blueprint.codec import ENV_VAR, decode_from_env
from engine.blueprint.model import (
    Blueprint,
    FunctionSpec,
    ImageSpec,
    ImageStep,
    ServerSpec,
)
from engine.planner.defaults import BUILD_MODEL_ROOT, PREFETCH_ENV_VAR
from tests.modal_backend.seam_sent import ImageLayer, SentApp, env_commands

# The module Modal imports in the container: `modal deploy engine/entry.py` imports the file as `entry`.
ENTRY_MODULE = "entry"
# Modal's own mount of its client package, which every function carries.
CLIENT_MOUNT_PREFIX = "modal-client-mount-"
ENTRY_FILE = "/root/entry.py"

# Blueprint fields that are not Modal parameters, and why each is not compared with a message.
NOT_SENT: dict[str, str] = {
    # `models:` reach Modal only through the containers of their users: the planner puts each
    # model's cache volume in ContainerSpec.mounts and its path in ContainerSpec.env (compared),
    # or, for a user on an image that holds it, a fetch step in the image (ImageSpec.steps,
    # compared). Where each user reads it (ModelSpec.images, volume, folder, env) is compared
    # with what its function is sent by check_models_where_their_users_read_them.
    "Blueprint.models": "reach Modal as the mounts, env and secrets of their users' containers (compared there)",
    "FunctionSpec.models": "the keys, for the plan; followed by check_models_where_their_users_read_them",
    **{
        f"ModelSpec.{name}": "see Blueprint.models"
        for name in (
            "key",
            "repo",
            "revision",
            "allow_patterns",
            "secret",
            "used_by",
        )
    },
    "Blueprint.source": "the manifest path, for humans; it travels inside MDEPLOY_BLUEPRINT only",
    "Blueprint.version": "the Blueprint format; inside MDEPLOY_BLUEPRINT only",
    "Blueprint.dicts": "Modal Dicts are not attached to an App (no such parameter): whatever touches one first creates it",
    "Blueprint.queues": "as dicts: Modal Queues are not attached to an App",
    "DictSpec.key": "see Blueprint.dicts",
    "DictSpec.name": "see Blueprint.dicts",
    "QueueSpec.key": "see Blueprint.queues",
    "QueueSpec.name": "see Blueprint.queues",
    "DictSpec.create_if_missing": "see Blueprint.dicts (passed to Dict.from_name: tests/modal_backend/test_named_objects.py)",
    "QueueSpec.create_if_missing": "see Blueprint.queues (passed to Queue.from_name: tests/modal_backend/test_named_objects.py)",
    # Local keys are references between Blueprint objects; the check of the field that holds a
    # reference follows it (ContainerSpec.image finds its ImageSpec by key, and so on).
    "ImageSpec.key": "a local reference, followed by the ContainerSpec.image check",
    "VolumeSpec.key": "a local reference, followed by the mount checks",
    "SecretSpec.key": "a local reference, followed by the secret checks",
    "BucketSpec.key": "a local reference, followed by the mount checks",
    "FunctionSpec.key": "the manifest's key for the function; Modal sees its name",
    "ServerSpec.key": "the manifest's key for the server; Modal sees its name",
    # What the container does with the Blueprint it receives: not decorator arguments but values
    # read by engine/modal_backend in the container, from MDEPLOY_BLUEPRINT, whose decoded value
    # `check_app_secret` compares with the whole Blueprint.
    "FunctionSpec.handler": "imported in the container from MDEPLOY_BLUEPRINT",
    "ServerSpec.engine": "read in the container from MDEPLOY_BLUEPRINT",
    "ServerSpec.model": "read in the container from MDEPLOY_BLUEPRINT (it is part of the command)",
    "ServerSpec.served_model_name": "read in the container from MDEPLOY_BLUEPRINT (part of the command)",
    "ServerSpec.command": "run in the container from MDEPLOY_BLUEPRINT",
    "ServerSpec.health_path": "polled in the container from MDEPLOY_BLUEPRINT",
    "ServerSpec.secret_args": "read in the container from MDEPLOY_BLUEPRINT",
    "ServerSpec.warmup": "sent by the container from MDEPLOY_BLUEPRINT",
    "ServerSpec.snapshot": "sleep/wake paths used in the container; the snapshot itself is ContainerSpec.enable_memory_snapshot",
    # The engine facts the planner derives ServerSpec.command from (engine/engines/): the container
    # runs the command; these reach it only inside MDEPLOY_BLUEPRINT, for the backends that read them.
    "ServerSpec.revision": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.served_names": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    # LoRA adapters: their flags are in ServerSpec.command, their volumes in ContainerSpec.mounts
    # (compared; test_adapters_sent.py spells both out for manifests/lora.yaml).
    "ServerSpec.lora_adapters": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "AdapterSpec.name": "in ServerSpec.command (NAME=PATH) and served_names; in MDEPLOY_BLUEPRINT only",
    "AdapterSpec.model": "the `models:` key, for the plan; its volume reaches Modal in ContainerSpec.mounts",
    "AdapterSpec.path": "in ServerSpec.command (NAME=PATH); in MDEPLOY_BLUEPRINT only",
    "ServerSpec.host": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.tensor_parallel_size": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.pipeline_parallel_size": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ClusterSpec.rank_args": "filled in and run by each clustered container from MDEPLOY_BLUEPRINT",
    "ClusterSpec.worker_args": "run by each clustered container but rank 0, from MDEPLOY_BLUEPRINT",
    "ServerSpec.context_length": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.max_sequences": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.memory_utilization": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.dtype": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.quantization": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.kv_cache_dtype": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.engine_defaults": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.fast_boot": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.engine_options": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.extra_args": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.needs_gpu": "an engine fact ServerSpec.command is derived from; in MDEPLOY_BLUEPRINT only",
    "ServerSpec.engine_env": "the engine's share of ContainerSpec.env, which the env checks compare",
    "ServerSpec.caches": "what the plan shows of ContainerSpec.mounts and env, which the checks compare "
    "(test_caches_sent.py)",
    "CacheSpec.name": "see ServerSpec.caches",
    "CacheSpec.state": "see ServerSpec.caches",
    "CacheSpec.path": "see ServerSpec.caches",
    "CacheSpec.volume": "see ServerSpec.caches",
    "SecretArg.flag": "see ServerSpec.secret_args",
    "SecretArg.env": "see ServerSpec.secret_args",
    "WarmupSpec.path": "see ServerSpec.warmup",
    "WarmupSpec.body": "see ServerSpec.warmup",
    "WarmupSpec.requests": "see ServerSpec.warmup",
    "WarmupSpec.method": "see ServerSpec.warmup",
    "WarmupSpec.status": "see ServerSpec.warmup",
    "WarmupSpec.fatal": "see ServerSpec.warmup",
    "ServerSpec.kind": "tells the container's launcher and the other backends an engine from a command",
    "ServerSpec.command_template": "the local runner fills it; the container runs `command`",
    "ServerSpec.ready_on_any_answer": "the container's readiness rule, from MDEPLOY_BLUEPRINT",
    "SnapshotSpec.sleep_path": "see ServerSpec.snapshot",
    "SnapshotSpec.wake_path": "see ServerSpec.snapshot",
    # A class's lifecycle methods are found by the container in the class itself, never sent:
    # tests/modal_backend/test_class_container.py plays the container running them in order.
    "ClassSpec.enter": "run by the class's one @modal.enter method in the container (test_class_container.py)",
    "ClassSpec.before_snapshot": "run by the class's @modal.enter(snap=True) method in the container "
    "(test_class_container.py); the snapshot itself is ContainerSpec.enable_memory_snapshot",
    "ClassSpec.exit": "run by the class's one @modal.exit method in the container (test_class_container.py)",
}

# Fields no manifest can set to anything but their default, so no deploy can show them sent
# with another value (their checks still run on the default).
NEVER_PLANNED: dict[str, str] = {
    "WebSpec.port": "only `web_server` functions have a port, and the planner plans none",
    "WebSpec.startup_timeout": "as WebSpec.port",
}


@dataclass
class Mismatches:
    """Every difference found, each naming the object, the field and both values."""

    found: list[str] = field(default_factory=list)

    def expect(self, where: str, what: str, expected: object, sent: object) -> None:
        if expected != sent:
            self.found.append(f"{where}: {what}: Blueprint {expected!r}, sent {sent!r}")

    def fail(self, where: str, message: str) -> None:
        self.found.append(f"{where}: {message}")


Check = Callable[..., None]
APP_CHECKS: list[Check] = []
CONTAINER_CHECKS: list[Check] = []
FUNCTION_CHECKS: list[Check] = []
SERVER_CHECKS: list[Check] = []
COMPARED: dict[str, list[str]] = {}  # Blueprint field -> the checks that compare it


def compares(registry: list[Check], *fields: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        registry.append(check)
        for name in fields:
            COMPARED.setdefault(name, []).append(check.__name__)
        return check

    return register


def modal_function_name(spec: FunctionSpec) -> str:
    """The name of the function Modal creates: a class's is its service function, `Name.*`."""
    return f"{spec.name}.*" if spec.cls is not None else spec.name


def compare(blueprint: Blueprint, sent: SentApp, *, only: Check | None = None) -> list[str]:
    """Every mismatch between `blueprint` and what its deploy sent (`only`: run that check alone)."""
    m = Mismatches()
    chosen = lambda checks: [c for c in checks if only is None or c is only]  # noqa: E731
    for check in chosen(APP_CHECKS):
        check(m, blueprint, sent)
    objects: list[tuple[str, FunctionSpec | ServerSpec, list]] = [
        ("function", f, FUNCTION_CHECKS) for f in blueprint.functions
    ] + [("server", s, SERVER_CHECKS) for s in blueprint.servers]
    for kind, spec, checks in objects:
        where = f"{kind} {spec.key}"
        name = modal_function_name(spec) if isinstance(spec, FunctionSpec) else spec.name
        function = sent.functions.get(name)
        if function is None:
            m.fail(where, f"no FunctionCreate for Modal name {name!r}")
            continue
        for check in chosen(checks):
            check(m, where, blueprint, spec, function.definitions, sent)
        for check in chosen(CONTAINER_CHECKS):
            check(m, where, blueprint, spec.container, function.definitions, sent, kind == "server")
    return m.found


# ---------------------------------------------------------------------------------------------
# The app


@compares(APP_CHECKS, "Blueprint.app")
def check_app_name(m, blueprint, sent):
    m.expect("app", "published name", blueprint.app, sent.published.name)


@compares(APP_CHECKS, "Blueprint.tags")
def check_app_tags(m, blueprint, sent):
    m.expect("app", "published tags", blueprint.tags, dict(sent.published.tags))
    for call in sent.calls:
        if call.method == "AppCreate":
            m.expect("app", "AppCreate tags", blueprint.tags, dict(call.request.tags))


@compares(APP_CHECKS, "Blueprint.environment")
def check_environment(m, blueprint, sent):
    for call in sent.calls:
        request = call.request
        if call.method in ("AppCreate", "AppGetByDeploymentName", "VolumeGetOrCreate") or (
            call.method == "SecretGetOrCreate" and request.deployment_name
        ):
            m.expect("app", f"{call.method} environment", blueprint.environment, request.environment_name)


@compares(APP_CHECKS, "Blueprint.functions", "Blueprint.servers")
def check_objects_published(m, blueprint, sent):
    expected = sorted([modal_function_name(f) for f in blueprint.functions] + [s.name for s in blueprint.servers])
    m.expect("app", "functions created", expected, sorted(sent.functions))
    m.expect("app", "functions published", expected, sorted(sent.published.function_ids))


@compares(APP_CHECKS, "Blueprint.images")
def check_every_image_is_used(m, blueprint, sent):
    # Each image's layers are compared through the objects that run on it; an image no object
    # uses would be built by nobody (the planner plans only used images).
    used = {o.container.image for o in (*blueprint.functions, *blueprint.servers)}
    m.expect("app", "images", sorted(i.key for i in blueprint.images), sorted(used))


@compares(APP_CHECKS, "Blueprint.volumes", "VolumeSpec.name", "VolumeSpec.create_if_missing")
def check_volumes(m, blueprint, sent):
    creation = {True: api_pb2.OBJECT_CREATION_TYPE_CREATE_IF_MISSING, False: api_pb2.OBJECT_CREATION_TYPE_UNSPECIFIED}
    sent_by_name = {v.deployment_name: v for v in sent.volumes.values()}
    for spec in blueprint.volumes:
        request = sent_by_name.get(spec.name)
        if request is None:
            if any(mt.kind == "volume" and mt.source == spec.key for mt in _all_mounts(blueprint)):
                m.fail(f"volume {spec.key}", f"mounted but no VolumeGetOrCreate for {spec.name!r}")
            continue
        m.expect(
            f"volume {spec.key}", "create if missing", creation[spec.create_if_missing], request.object_creation_type
        )
    m.expect(
        "app",
        "volumes looked up",
        sorted({v.name for v in blueprint.volumes} & set(sent_by_name)),
        sorted(sent_by_name),
    )


@compares(APP_CHECKS, "Blueprint.secrets", "SecretSpec.name", "SecretSpec.required_keys")
def check_named_secrets(m, blueprint, sent):
    sent_by_name = {s.deployment_name: s for s in sent.secrets.values() if s.deployment_name}
    declared = {s.name for s in blueprint.secrets}
    for spec in blueprint.secrets:
        request = sent_by_name.get(spec.name)
        if request is not None:
            m.expect(f"secret {spec.key}", "required keys", list(spec.required_keys), list(request.required_keys))
    m.expect(
        "app", "named secrets looked up that the Blueprint does not declare", [], sorted(set(sent_by_name) - declared)
    )


@compares(APP_CHECKS)
def check_app_secret(m, blueprint, sent):
    """The app-level MDEPLOY_BLUEPRINT secret carries exactly this Blueprint (the container builds
    from it alone); that it is attached to every object is `check_secrets`'s part."""
    values = [env[ENV_VAR] for sid in sent.secrets if (env := sent.env_dict(sid)) and ENV_VAR in env]
    if len(values) != 1:
        m.fail("app", f"expected one {ENV_VAR} secret, sent {len(values)}")
        return
    if decode_from_env(values[0]) != blueprint:
        m.fail("app", f"{ENV_VAR} does not decode to the planned Blueprint")


# ---------------------------------------------------------------------------------------------
# What every container has (functions and servers alike)


@compares(CONTAINER_CHECKS, "ContainerSpec.gpu")
def check_gpu(m, where, blueprint, container, definitions, sent, is_server):
    expected = [_gpu_config(g) for g in container.gpu] or [("", 0)]
    sent_gpus = [(d.resources.gpu_config.gpu_type, d.resources.gpu_config.count) for d in definitions]
    m.expect(where, "gpu (in fallback order)", expected, sent_gpus)


@compares(CONTAINER_CHECKS, "ContainerSpec.cpu", "ContainerSpec.memory", "ContainerSpec.ephemeral_disk")
def check_resources(m, where, blueprint, container, definitions, sent, is_server):
    for d in definitions:
        m.expect(
            where, "milli_cpu", round(container.cpu * 1000) if container.cpu is not None else 0, d.resources.milli_cpu
        )
        m.expect(where, "memory_mb", container.memory or 0, d.resources.memory_mb)
        m.expect(where, "ephemeral_disk_mb", container.ephemeral_disk or 0, d.resources.ephemeral_disk_mb)


@compares(CONTAINER_CHECKS, "ContainerSpec.region", "ContainerSpec.nonpreemptible", "ContainerSpec.cloud")
def check_placement(m, where, blueprint, container, definitions, sent, is_server):
    for d in definitions:
        m.expect(where, "regions", list(container.region), list(d.scheduler_placement.regions))
        m.expect(where, "nonpreemptible", container.nonpreemptible, d.scheduler_placement.nonpreemptible)
        m.expect(where, "cloud", container.cloud or "", d.cloud_provider_str)


@compares(CONTAINER_CHECKS, "ContainerSpec.secrets", "ContainerSpec.env")
def check_secrets(m, where, blueprint, container, definitions, sent, is_server):
    names = {s.key: s.name for s in blueprint.secrets}
    for d in definitions:
        ids = list(d.secret_ids)
        app_secrets = [i for i in ids if ENV_VAR in (sent.env_dict(i) or {})]
        m.expect(where, f"{ENV_VAR} secret attached (once, first)", [ids[0]] if ids else [], app_secrets)
        named = [sent.named_secret(i).deployment_name for i in ids if sent.named_secret(i) is not None]
        m.expect(where, "secrets (by name, in order)", [names[k] for k in container.secrets], named)
        env = [sent.env_dict(i) for i in ids if i not in app_secrets and sent.named_secret(i) is None]
        m.expect(where, "env", [dict(container.env)] if container.env else [], env)


@compares(
    CONTAINER_CHECKS,
    "ContainerSpec.mounts",
    "MountSpec.path",
    "MountSpec.kind",
    "MountSpec.source",
    "Blueprint.buckets",
    "BucketSpec.bucket_name",
    "BucketSpec.secret",
    "BucketSpec.read_only",
    "BucketSpec.key_prefix",
    "BucketSpec.bucket_endpoint_url",
    "BucketSpec.requester_pays",
)
def check_mounts(m, where, blueprint, container, definitions, sent, is_server):
    volumes = {v.key: v.name for v in blueprint.volumes}
    buckets = {b.key: b for b in blueprint.buckets}
    secrets = {s.key: s.name for s in blueprint.secrets}
    expected_volumes = {mt.path: volumes[mt.source] for mt in container.mounts if mt.kind == "volume"}
    expected_buckets = {}
    for mt in container.mounts:
        if mt.kind == "bucket":
            b = buckets[mt.source]
            expected_buckets[mt.path] = (
                b.bucket_name,
                secrets[b.secret] if b.secret else None,
                b.read_only,
                b.key_prefix,
                b.bucket_endpoint_url,
                b.requester_pays,
            )
    unknown_kinds = [mt.kind for mt in container.mounts if mt.kind not in ("volume", "bucket")]
    if unknown_kinds:
        m.fail(where, f"mount kinds {unknown_kinds} (volume | bucket)")
    for d in definitions:
        sent_volumes = {v.mount_path: sent.volumes[v.volume_id].deployment_name for v in d.volume_mounts}
        m.expect(where, "volume mounts (path -> volume name)", expected_volumes, sent_volumes)
        sent_buckets = {}
        for b in d.cloud_bucket_mounts:
            secret = sent.named_secret(b.credentials_secret_id) if b.credentials_secret_id else None
            sent_buckets[b.mount_path] = (
                b.bucket_name,
                secret.deployment_name if secret is not None else None,
                b.read_only,
                b.key_prefix if b.HasField("key_prefix") else None,
                b.bucket_endpoint_url if b.HasField("bucket_endpoint_url") else None,
                b.requester_pays,
            )
        m.expect(
            where,
            "bucket mounts (path -> name, secret, read only, prefix, endpoint, requester pays)",
            expected_buckets,
            sent_buckets,
        )


@compares(
    CONTAINER_CHECKS,
    "ContainerSpec.scaling",
    "ScalingSpec.min_containers",
    "ScalingSpec.max_containers",
    "ScalingSpec.buffer_containers",
    "ScalingSpec.scaledown_window",
    "ScalingSpec.scaleup_window",
)
def check_scaling(m, where, blueprint, container, definitions, sent, is_server):
    scaling = container.scaling
    for d in definitions:
        a = d.autoscaler_settings
        m.expect(where, "min_containers", scaling.min_containers, a.min_containers)
        m.expect(
            where, "max_containers", scaling.max_containers, a.max_containers if a.HasField("max_containers") else None
        )
        m.expect(where, "buffer_containers", scaling.buffer_containers, a.buffer_containers)
        m.expect(where, "scaledown_window", scaling.scaledown_window, a.scaledown_window)
        # Unset is Modal's default, sent as no field at all.
        m.expect(
            where, "scaleup_window", scaling.scaleup_window, a.scaleup_window if a.HasField("scaleup_window") else None
        )


@compares(CONTAINER_CHECKS, "ContainerSpec.enable_memory_snapshot", "ContainerSpec.gpu_snapshot")
def check_snapshots(m, where, blueprint, container, definitions, sent, is_server):
    for d in definitions:
        m.expect(where, "memory snapshot", container.enable_memory_snapshot, d.checkpointing_enabled)
        expected = {"enable_gpu_snapshot": "True"} if container.gpu_snapshot else {}
        m.expect(where, "experimental options", expected, dict(d.experimental_options))


@compares(
    CONTAINER_CHECKS,
    "ContainerSpec.image",
    "ImageSpec.base",
    "ImageSpec.python_version",
    "ImageSpec.registry_ref",
    "ImageSpec.clear_entrypoint",
    "ImageSpec.steps",
    "ImageStep.op",
    "ImageStep.args",
    "ImageStep.env",
    "ImageStep.index_url",
    "ImageStep.extra_index_url",
    "ImageStep.find_links",
    "ImageStep.pre",
    "ImageStep.copy",
    "ImageStep.ignore",
    "ImageStep.gpu",
    "ImageStep.secrets",
    "ImageStep.timeout",
    "ImageStep.cpu",
    "ImageStep.memory",
    "ImageStep.mounts",
    "ImageStep.models",
)
def check_image(m, where, blueprint, container, definitions, sent, is_server):
    _MANIFEST[0] = blueprint.source
    _SECRET_NAMES.clear()
    _SECRET_NAMES.update({s.key: s.name for s in blueprint.secrets})
    _VOLUME_NAMES.clear()
    _VOLUME_NAMES.update({v.key: v.name for v in blueprint.volumes})
    images = {i.key: i for i in blueprint.images}
    spec = images.get(container.image)
    if spec is None:
        m.fail(where, f"image {container.image!r} is not in the Blueprint")
        return
    for d in definitions:
        layers = sent.image_layers(d.image_id)
        for problem in _image_problems(spec, layers, sent):
            m.fail(f"{where} image {spec.key}", problem)
        for problem in _local_source_problems(
            spec, blueprint.source, sent.mounted_files(d), sent.global_mount_names(d)
        ):
            m.fail(f"{where} image {spec.key}", problem)


# ---------------------------------------------------------------------------------------------
# Functions


@compares(FUNCTION_CHECKS, "FunctionSpec.name", "FunctionSpec.symbol")
def check_function_identity(m, where, blueprint, spec, definitions, sent):
    # A class's service function is `Symbol.*` (Modal names a class by its class name).
    suffix = ".*" if spec.cls is not None else ""
    for d in definitions:
        m.expect(where, "function name", modal_function_name(spec), d.function_name)
        m.expect(where, "module", ENTRY_MODULE, d.module_name)
        m.expect(where, "implementation name (the entry module's global)", spec.symbol + suffix, d.implementation_name)
        m.expect(where, "is a class", spec.cls is not None, d.is_class)
        m.expect(where, "is a server", False, d.is_server)


@compares(FUNCTION_CHECKS, "FunctionSpec.timeout")
def check_function_timeout(m, where, blueprint, spec, definitions, sent):
    for d in definitions:
        m.expect(where, "timeout_secs", spec.timeout, d.timeout_secs)


@compares(
    FUNCTION_CHECKS,
    "FunctionSpec.retries",
    "RetrySpec.max_retries",
    "RetrySpec.backoff_coefficient",
    "RetrySpec.initial_delay",
    "RetrySpec.max_delay",
)
def check_retries(m, where, blueprint, spec, definitions, sent):
    r = spec.retries
    expected = (
        (r.max_retries, r.backoff_coefficient, round(r.initial_delay * 1000), round(r.max_delay * 1000)) if r else None
    )
    for d in definitions:
        p = d.retry_policy
        got = (
            (p.retries, p.backoff_coefficient, p.initial_delay_ms, p.max_delay_ms)
            if d.HasField("retry_policy")
            else None
        )
        m.expect(where, "retries (count, backoff, initial ms, max ms)", expected, got)


@compares(
    FUNCTION_CHECKS,
    "FunctionSpec.schedule",
    "ScheduleSpec.kind",
    "ScheduleSpec.cron",
    "ScheduleSpec.timezone",
    "ScheduleSpec.seconds",
)
def check_schedule(m, where, blueprint, spec, definitions, sent):
    s = spec.schedule
    expected = None
    if s is not None and s.kind == "cron":
        expected = ("cron", s.cron, s.timezone or "UTC")
    elif s is not None:
        expected = ("period", float(s.seconds or 0))
    for d in definitions:
        got = None
        if d.HasField("schedule"):
            which = d.schedule.WhichOneof("schedule_oneof")
            if which == "cron":
                got = ("cron", d.schedule.cron.cron_string, d.schedule.cron.timezone)
            else:
                period = d.schedule.period
                got = ("period", period.seconds + 60 * period.minutes + 3600 * period.hours + 86400 * period.days)
        m.expect(where, "schedule", expected, got)


@compares(FUNCTION_CHECKS, "FunctionSpec.concurrency", "ConcurrencySpec.max_inputs", "ConcurrencySpec.target_inputs")
def check_input_concurrency(m, where, blueprint, spec, definitions, sent):
    c = spec.concurrency
    for d in definitions:
        m.expect(where, "max concurrent inputs", c.max_inputs if c else 0, d.max_concurrent_inputs)
        m.expect(where, "target concurrent inputs", (c.target_inputs or 0) if c else 0, d.target_concurrent_inputs)


@compares(
    FUNCTION_CHECKS,
    "FunctionSpec.batching",
    "BatchingSpec.max_batch_size",
    "BatchingSpec.wait_ms",
    "BatchedMethodSpec.max_batch_size",
    "BatchedMethodSpec.wait_ms",
)
def check_batching(m, where, blueprint, spec, definitions, sent):
    b = spec.batching or (spec.cls.batched[0] if spec.cls is not None and spec.cls.batched else None)
    for d in definitions:
        m.expect(where, "batch max size", b.max_batch_size if b else 0, d.batch_max_size)
        m.expect(where, "batch linger ms", b.wait_ms if b else 0, d.batch_linger_ms)


@compares(
    FUNCTION_CHECKS,
    "FunctionSpec.cls",
    "ClassSpec.methods",
    "ClassSpec.batched",
    "BatchedMethodSpec.name",
    "ClassSpec.startup_timeout",
)
def check_class(m, where, blueprint, spec, definitions, sent):
    c = spec.cls
    expected = sorted([*c.methods, *(b.name for b in c.batched)]) if c is not None else []
    for d in definitions:
        m.expect(where, "methods", expected, sorted(d.method_definitions))
        if c is not None:
            # Unset: Modal sends the timeout, which then bounds the enter hooks too.
            m.expect(where, "startup_timeout_secs", c.startup_timeout or spec.timeout, d.startup_timeout_secs)


# What Modal's client sends for each parameter type (ClassParameterSpec.type, and which
# `*_default` field carries the default).
PARAMETER_PROTO = {
    "str": (api_pb2.PARAM_TYPE_STRING, "string_default"),
    "int": (api_pb2.PARAM_TYPE_INT, "int_default"),
    "bool": (api_pb2.PARAM_TYPE_BOOL, "bool_default"),
    "bytes": (api_pb2.PARAM_TYPE_BYTES, "bytes_default"),
}


@compares(
    FUNCTION_CHECKS,
    "ClassSpec.parameters",
    "ClassParameterSpec.name",
    "ClassParameterSpec.type",
    "ClassParameterSpec.default",
)
def check_class_parameters(m, where, blueprint, spec, definitions, sent):
    """The schema callers' arguments are checked against: each parameter's name, type and
    default as the client sends them (a bytes default as the UTF-8 of its text)."""
    parameters = spec.cls.parameters if spec.cls is not None else ()
    expected = []
    for p in parameters:
        proto_type, default_field = PARAMETER_PROTO[p.type]
        default = p.default.encode() if p.type == "bytes" and p.default is not None else p.default
        expected.append((p.name, proto_type, p.default is not None, default))
    for d in definitions:
        if spec.cls is None:
            continue
        info = d.class_parameter_info
        if parameters:
            m.expect(
                where, "parameter format", api_pb2.ClassParameterInfo.PARAM_SERIALIZATION_FORMAT_PROTO, info.format
            )
        sent_schema = []
        for s in info.schema:
            default_field = next(f for t, f in PARAMETER_PROTO.values() if t == s.type) if s.has_default else None
            sent_schema.append((s.name, s.type, s.has_default, getattr(s, default_field) if default_field else None))
        m.expect(where, "class parameters", sorted(expected), sorted(sent_schema))


WEBHOOK_TYPES = {
    "fastapi_endpoint": api_pb2.WEBHOOK_TYPE_FUNCTION,
    "asgi_app": api_pb2.WEBHOOK_TYPE_ASGI_APP,
    "wsgi_app": api_pb2.WEBHOOK_TYPE_WSGI_APP,
    "web_server": api_pb2.WEBHOOK_TYPE_WEB_SERVER,
}


@compares(
    FUNCTION_CHECKS,
    "FunctionSpec.web",
    "WebSpec.kind",
    "WebSpec.method",
    "WebSpec.docs",
    "WebSpec.port",
    "WebSpec.startup_timeout",
    "WebSpec.requires_proxy_auth",
    "WebSpec.label",
)
def check_web(m, where, blueprint, spec, definitions, sent):
    w = spec.web
    expected = None
    if w is not None:
        expected = (
            WEBHOOK_TYPES.get(w.kind, f"unknown kind {w.kind!r}"),
            w.method or "",
            w.docs,
            w.requires_proxy_auth,
            w.label or "",
            w.port or 0,
            float(w.startup_timeout or 0),
        )
    for d in definitions:
        h = d.webhook_config
        got = None
        if d.HasField("webhook_config") and h.type != api_pb2.WEBHOOK_TYPE_UNSPECIFIED:
            got = (
                h.type,
                h.method,
                h.web_endpoint_docs,
                h.requires_proxy_auth,
                h.requested_suffix,
                h.web_server_port,
                h.web_server_startup_timeout,
            )
        m.expect(where, "web (type, method, docs, proxy auth, label, port, startup timeout)", expected, got)


@compares(FUNCTION_CHECKS, "FunctionSpec.routing_region")
def check_function_routing_region(m, where, blueprint, spec, definitions, sent):
    for d in definitions:
        # A server's routing region travels in http_config; a function's in its own field ("" unset).
        m.expect(where, "routing region", spec.routing_region or "", d.routing_region)


@compares(FUNCTION_CHECKS, "ModelSpec.images", "ModelSpec.volume", "ModelSpec.folder", "ModelSpec.env")
def check_models_where_their_users_read_them(m, where, blueprint, spec, definitions, sent):
    """Each model a function lists is where its ModelSpec says: on an image of `images`, fetched
    into that image while it builds (a builder layer whose MDEPLOY_PREFETCH job names the model's
    repo and revision, cached below BUILD_MODEL_ROOT), with `env` naming BUILD_MODEL_ROOT/folder;
    on any other image in `volume`, mounted, with `env` naming the mount/folder."""
    models = {x.key: x for x in blueprint.models}
    volumes = {v.key: v.name for v in blueprint.volumes}
    for d in definitions:
        envs = [sent.env_dict(i) for i in d.secret_ids]
        env = {k: v for e in envs if e is not None and ENV_VAR not in e for k, v in e.items()}
        mounted = [(v.mount_path, sent.volumes[v.volume_id].deployment_name) for v in d.volume_mounts]
        for key in spec.models:
            x = models[key]
            if spec.container.image in x.images:
                fetched = _fetched_into_image(sent.image_layers(d.image_id), sent)
                job = {
                    "key": key,
                    "repo": x.repo,
                    "revision": x.revision,
                    "cache_dir": f"{BUILD_MODEL_ROOT}/hub",
                    "allow_patterns": list(x.allow_patterns) or None,
                }
                if job not in fetched:
                    m.fail(
                        where, f"model {key}: image {spec.container.image} holds it, but no build layer fetches {job}"
                    )
                m.expect(where, f"{x.env} (model {key} in the image)", f"{BUILD_MODEL_ROOT}/{x.folder}", env.get(x.env))
            elif x.volume is None:
                m.fail(where, f"model {key}: image {spec.container.image} does not hold it, and it has no volume")
            else:
                paths = [f"{path}/{x.folder}" for path, name in mounted if name == volumes.get(x.volume)]
                if env.get(x.env) not in paths:
                    m.fail(
                        where,
                        f"model {key} in volume {x.volume}: {x.env} is {env.get(x.env)!r}, "
                        f"expected one of {paths} (the volume's mounts, sent)",
                    )


def _fetched_into_image(layers: list[ImageLayer], sent: SentApp) -> list[dict]:
    """The MDEPLOY_PREFETCH jobs of an image's builder layers (each fetches hub models into it)."""
    jobs: list[dict] = []
    for layer in layers:
        for secret_id in layer.build_function.secret_ids if layer.build_function is not None else ():
            jobs += json.loads((sent.env_dict(secret_id) or {}).get(PREFETCH_ENV_VAR, "[]"))
    return jobs


@compares(FUNCTION_CHECKS, "FunctionSpec.max_inputs", "FunctionSpec.container")
def check_single_use(m, where, blueprint, spec, definitions, sent):
    # FunctionSpec.container is compared field by field by the container checks.
    if spec.max_inputs not in (None, 1):
        m.fail(where, f"max_inputs {spec.max_inputs}: Modal has only single-use containers (1)")
    for d in definitions:
        m.expect(where, "single-use containers", spec.max_inputs == 1, d.single_use_containers)


# ---------------------------------------------------------------------------------------------
# Servers


@compares(SERVER_CHECKS, "ServerSpec.name", "ServerSpec.symbol", "ServerSpec.container")
def check_server_identity(m, where, blueprint, spec, definitions, sent):
    for d in definitions:
        m.expect(where, "function name", spec.name, d.function_name)
        m.expect(where, "module", ENTRY_MODULE, d.module_name)
        m.expect(where, "implementation name (the entry module's class)", f"{spec.symbol}.*", d.implementation_name)
        m.expect(where, "is a server class", (True, True), (d.is_server, d.is_class))


@compares(
    SERVER_CHECKS,
    "ServerSpec.port",
    "ServerSpec.startup_timeout",
    "ServerSpec.exit_grace_period",
    "ServerSpec.routing_region",
    "ServerSpec.requires_proxy_auth",
    "ServerSpec.h2_enabled",
)
def check_http(m, where, blueprint, spec, definitions, sent):
    for d in definitions:
        h = d.http_config
        m.expect(where, "HTTP/2", spec.h2_enabled, h.h2_enabled)
        m.expect(where, "port", spec.port, h.port)
        m.expect(
            where,
            "startup timeout",
            (spec.startup_timeout, spec.startup_timeout),
            (h.startup_timeout, d.startup_timeout_secs),
        )
        m.expect(where, "exit grace period", spec.exit_grace_period, h.exit_grace_period)
        m.expect(where, "routing region", [spec.routing_region] if spec.routing_region else [], list(h.proxy_regions))
        m.expect(where, "unauthenticated", not spec.requires_proxy_auth, h.unauthenticated)


@compares(SERVER_CHECKS, "ServerSpec.cluster", "ClusterSpec.nodes", "ClusterSpec.rdma")
def check_cluster(m, where, blueprint, spec, definitions, sent):
    """`@modal.clustered(size, rdma)`: the cluster size, RDMA and the private network it implies."""
    nodes = spec.cluster.nodes if spec.cluster else 0
    rdma = spec.cluster.rdma if spec.cluster else False
    for d in definitions:
        m.expect(where, "cluster size", nodes, d._experimental_group_size)
        m.expect(where, "RDMA", rdma, d.resources.rdma)
        m.expect(where, "i6pn (the nodes' network)", spec.cluster is not None, d.i6pn_enabled)


@compares(SERVER_CHECKS, "ServerSpec.target_concurrency", "ServerSpec.max_concurrency")
def check_server_concurrency(m, where, blueprint, spec, definitions, sent):
    for d in definitions:
        a = d.autoscaler_settings
        target = a.target_concurrency_float if a.HasField("target_concurrency_float") else None
        m.expect(where, "target concurrency", spec.target_concurrency, target)
        m.expect(where, "max concurrency", spec.max_concurrency or 0, d.max_concurrent_inputs)


# ---------------------------------------------------------------------------------------------
# Images: what each ImageSpec should look like as layers


def _image_problems(spec: ImageSpec, layers: list[ImageLayer], sent: SentApp) -> list[str]:
    problems: list[str] = []
    root, rest = layers[0], list(layers[1:])
    if spec.base == "debian_slim":
        first = root.commands[0] if root.commands else ""
        if not (first.startswith(f"FROM python:{spec.python_version}.") and "slim" in first):
            problems.append(f"base: debian_slim Python {spec.python_version}, sent {first!r}")
    elif spec.base == "registry":
        if root.commands[:1] != (f"FROM {spec.registry_ref}",):
            problems.append(f"base: FROM {spec.registry_ref}, sent {root.commands[:1]}")
        context = sent.mounts.get(root.context_mount_id)
        added = context.deployment_name if context is not None else ""
        if spec.python_version:
            if f".{spec.python_version}." not in added or "COPY /python/. /usr/local" not in root.commands:
                problems.append(f"add_python {spec.python_version}: sent context {added!r}")
        elif added:
            problems.append(f"no Python added, sent context {added!r}")
    else:
        problems.append(f"unknown base {spec.base!r}")
    if spec.clear_entrypoint:
        if not rest or rest[0].commands != ("ENTRYPOINT []",):
            problems.append("entrypoint cleared: no `ENTRYPOINT []` layer after the base")
        else:
            rest.pop(0)
    elif any(layer.commands == ("ENTRYPOINT []",) for layer in rest):
        problems.append("entrypoint not to be cleared, but an `ENTRYPOINT []` layer was sent")
    # Local files not copied into a layer are mounted at container start (checked with the
    # function's mounts), so they are no layer either.
    build_steps = [s for s in spec.steps if s.op != "add_local_python_source" and not _mounted_at_start(s)]
    if len(build_steps) != len(rest):
        problems.append(
            f"{len(build_steps)} build steps, {len(rest)} layers sent: {[layer.commands for layer in rest]}"
        )
        return problems
    for number, (step, layer) in enumerate(zip(build_steps, rest), start=1):
        problem = (
            _layer_problem(step, layer, spec, sent) if step.op in _LAYER_OPS else _step_problem(step, layer.commands)
        )
        if problem:
            problems.append(f"step {number} ({step.op}): {problem}; sent {list(layer.commands)}")
    return problems


def _step_problem(step: ImageStep, commands: tuple[str, ...]) -> str | None:
    if step.op == "apt_install":
        install = [c for c in commands if c.startswith("RUN apt-get install")]
        return _tokens_problem(install, step.args)
    if step.op in ("pip_install", "uv_pip_install"):
        marker = "uv pip install" if step.op == "uv_pip_install" else "pip install"
        install = [c for c in commands if marker in c]
        flags = []
        if step.index_url:
            flags += ["--index-url", step.index_url]
        if step.extra_index_url:
            flags += ["--extra-index-url", step.extra_index_url]
        if step.find_links:
            flags += ["--find-links", step.find_links]
        if step.pre:
            # pip's flag is --pre; uv's is `--prerelease allow`.
            flags += ["--prerelease", "allow"] if step.op == "uv_pip_install" else ["--pre"]
        problem = _tokens_problem(install, (*step.args, *flags))
        sent_tokens = shlex.split(install[0]) if len(install) == 1 else []
        if problem is None and not step.pre and ("--pre" in sent_tokens or "--prerelease" in sent_tokens):
            return "pre-releases nobody asked for"
        if problem is None and not step.find_links and "--find-links" in sent_tokens:
            return "find-links nobody asked for"
        if problem is None and not step.index_url and "--index-url" in shlex.split(install[0]):
            return "an index URL nobody asked for"
        if problem is None and not step.extra_index_url and "--extra-index-url" in shlex.split(install[0]):
            return "an extra index URL nobody asked for"
        return problem
    if step.op == "run_commands":
        expected = tuple(f"RUN {c}" for c in step.args)
        return None if commands == expected else f"expected {list(expected)}"
    if step.op == "workdir":
        return None if commands == (f"WORKDIR {step.args[0]}",) else f"expected WORKDIR {step.args[0]}"
    if step.op == "env":
        sent_env = env_commands(commands)
        return None if sent_env == dict(step.env) else f"env {dict(step.env)} expected"
    return f"unknown op {step.op!r}"


_LOCAL_OPS = ("add_local_file", "add_local_dir")
_LAYER_OPS = (*_LOCAL_OPS, "run_function")


def _mounted_at_start(step: ImageStep) -> bool:
    return step.op in _LOCAL_OPS and not step.copy


def _layer_problem(step: ImageStep, layer: ImageLayer, spec: ImageSpec, sent: SentApp) -> str | None:
    """A copied local file or folder: one `COPY . /` layer whose context holds exactly its files;
    a build function: a layer built by the builder function, with its GPU, secrets and timeout."""
    if step.op == "run_function":
        builder = layer.build_function
        if builder is None:
            return "expected a layer built by a function"
        module, _, attr = step.args[0].partition(":")
        found = (builder.module_name, builder.implementation_name, builder.timeout_secs)
        if found != (module, attr, step.timeout):
            return f"builder {found}, expected {(module, attr, step.timeout)}"
        gpus = [(g.gpu_type, g.count) for g in _builder_gpus(builder)]
        if gpus != [_gpu_config(g) for g in step.gpu]:
            return f"builder GPUs {gpus}, expected {step.gpu}"
        names = [sent.named_secret(i).deployment_name for i in builder.secret_ids if sent.named_secret(i)]
        expected = [_SECRET_NAMES[key] for key in step.secrets]
        if names != expected:
            return f"builder secrets {names}, expected {expected}"
        # The build function's env reaches Modal as one more, anonymous secret (Image.run_function).
        envs = [sent.env_dict(i) for i in builder.secret_ids if sent.env_dict(i) is not None]
        if envs != ([step.env] if step.env else []):
            return f"builder env {envs}, expected {step.env}"
        resources = (builder.resources.milli_cpu, builder.resources.memory_mb)
        if resources != (round(step.cpu * 1000) if step.cpu is not None else 0, step.memory or 0):
            return f"builder milli_cpu, memory_mb {resources}, expected {step.cpu}, {step.memory}"
        # `models` are reached through mounts and env (nothing of their own is sent).
        mounts = {v.mount_path: sent.volumes[v.volume_id].deployment_name for v in builder.volume_mounts}
        wanted = {mount.path: _VOLUME_NAMES[mount.source] for mount in step.mounts}
        return None if mounts == wanted else f"builder volumes {mounts}, expected {wanted}"
    if layer.build_function is not None or layer.commands != ("COPY . /",):
        return "expected one `COPY . /` layer"
    context = sent.mounts.get(layer.context_mount_id)
    copied = sorted(f.filename for f in context.files) if context is not None else []
    expected = sorted(local_step_files(step, spec))
    return None if copied == expected else f"copied {copied}, expected {expected}"


def _builder_gpus(builder):
    resources = builder.resources
    if resources.HasField("gpu_config") and resources.gpu_config.count:
        return [resources.gpu_config]
    return []


# The Modal names of Blueprint secrets and volumes, set by `check_image` for the blueprint at hand.
_SECRET_NAMES: dict[str, str] = {}
_VOLUME_NAMES: dict[str, str] = {}


def local_step_files(step: ImageStep, spec: ImageSpec) -> dict[str, str]:
    """Container path -> sha256 of what an add_local_file/dir step puts into the container, read
    from the project the Blueprint's manifest is in (ignore patterns applied)."""
    import hashlib
    from pathlib import Path, PurePosixPath

    from modal.file_pattern_matcher import FilePatternMatcher

    from engine.project.root import project_root
    from tests.modal_backend.seam_local_sources import REPO_ROOT

    root = project_root(REPO_ROOT / _MANIFEST[0])
    src, dest = step.args
    local = root / src
    if step.op == "add_local_file":
        target = dest + local.name if dest.endswith("/") else dest
        return {target: hashlib.sha256(local.read_bytes()).hexdigest()}
    ignored = FilePatternMatcher(*step.ignore) if step.ignore else (lambda _p: False)
    files = {}
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        relative = path.relative_to(local)
        if ignored(Path(relative)):
            continue
        files[str(PurePosixPath(dest) / relative.as_posix())] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


_MANIFEST: list[str] = [""]  # the manifest of the Blueprint being compared (for local paths)


def _tokens_problem(commands: list[str], tokens: tuple[str, ...]) -> str | None:
    if len(commands) != 1:
        return f"expected one install command, found {len(commands)}"
    sent = shlex.split(commands[0])
    missing = [t for t in tokens if t not in sent]
    return f"missing {missing}" if missing else None


def _local_source_problems(
    spec: ImageSpec, manifest: str, files: dict[str, str], global_mounts: list[str]
) -> list[str]:
    """The container gets entry.py, Modal's client mount, and the packages of the image's
    `add_local_python_source` step, file for file (same content), and nothing else. Handler
    packages come from the manifest's project root (the deploy puts it first on sys.path)."""
    from engine.project.root import project_root, source_folders
    from tests.modal_backend.seam_local_sources import REPO_ROOT, local_python_files

    roots = (*source_folders(project_root(REPO_ROOT / manifest)), REPO_ROOT)

    modules = [a for s in spec.steps if s.op == "add_local_python_source" for a in s.args]
    problems = []
    if spec.steps and spec.steps[-1].op != "add_local_python_source":
        problems.append("the last step is not add_local_python_source (Modal requires it last)")
    expected = {ENTRY_FILE: local_python_files("engine", (REPO_ROOT,))["/root/engine/entry.py"]}
    for step in spec.steps:
        if _mounted_at_start(step):
            expected.update(local_step_files(step, spec))
    for module in modules:
        found = local_python_files(module, roots)
        if not found:
            problems.append(f"add_local_python_source {module!r}: no such local package")
        expected.update(found)
    if files != expected:
        missing = sorted(set(expected) - set(files))
        extra = sorted(set(files) - set(expected))
        changed = sorted(p for p in set(files) & set(expected) if files[p] != expected[p])
        problems.append(f"local sources: missing {missing[:5]}, not asked for {extra[:5]}, different {changed[:5]}")
    if not (len(global_mounts) == 1 and global_mounts[0].startswith(CLIENT_MOUNT_PREFIX)):
        problems.append(f"Modal mounts: expected only its client mount, sent {global_mounts}")
    return problems


def _gpu_config(gpu: str) -> tuple[str, int]:
    kind, _, count = gpu.partition(":")
    return kind, int(count or 1)


def _all_mounts(blueprint: Blueprint):
    for obj in (*blueprint.functions, *blueprint.servers):
        yield from obj.container.mounts


ALL_CHECKS: list[Check] = [*APP_CHECKS, *CONTAINER_CHECKS, *FUNCTION_CHECKS, *SERVER_CHECKS]
