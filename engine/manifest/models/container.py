"""What every container has, whether it serves (services) or runs (functions): image, resources,
placement, storage, secrets, env, scaling. Services and functions extend `ContainerSettings`;
`defaults` holds the inheritable subset."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from engine.manifest.models.base import StrictModel, TupleOf, check_one_path_per_volume, fail, one_or_many
from engine.manifest.models.images import EnvMap
from engine.manifest.models.resources import Cpu, EphemeralDiskMiB, MemoryMiB
from engine.manifest.models.shorthands import DurationSeconds, Gpu, MountPath

MIN_SCALEDOWN_WINDOW = 2
MAX_SCALEDOWN_WINDOW = 3600
# Modal checks only that a scale-up window is positive; the upper bound is mdeploy's, the same hour
# as the scale-down window's: demand sustained that long is not a burst to smooth over.
MAX_SCALEUP_WINDOW = 3600
# `app.server` refuses more (modal/_server.py, validate_http_server_config).
MAX_EXIT_GRACE_PERIOD = 3600
MAX_TIMEOUT = 24 * 3600
DEFAULT_MIN_CONTAINERS = 0
DEFAULT_BUFFER_CONTAINERS = 0

ScaledownWindow = Annotated[
    Annotated[int, DurationSeconds(MIN_SCALEDOWN_WINDOW, MAX_SCALEDOWN_WINDOW)] | None,
    Field(
        description='How long an idle container waits before it shuts down: 2 s to 1 h, e.g. "5m". Default: inherited, else Modal\'s 60 s.'
    ),
]
Timeout = Annotated[
    Annotated[int, DurationSeconds(1, MAX_TIMEOUT)] | None,
    Field(description='Longest time one input (or request) may run before Modal stops it, e.g. "10m" (max "24h").'),
]
Region = Annotated[
    tuple[str, ...] | None,
    BeforeValidator(one_or_many, json_schema_input_type=str | list[str] | None),
    Field(description='Where containers may run: one region ("us-east") or a list.'),
]
Cloud = Annotated[Literal["aws", "gcp", "oci", "auto"] | None, Field(description="Cloud provider to run on.")]
SecretKeys = Annotated[
    tuple[str, ...],
    BeforeValidator(one_or_many, json_schema_input_type=str | list[str]),
    Field(description="Keys of `secrets` whose values become environment variables."),
]
VolumeMounts = Annotated[dict[MountPath, str], Field(description="Mount path -> key of `volumes`.")]
BucketMounts = Annotated[dict[MountPath, str], Field(description="Mount path -> key of `buckets`.")]
ImageKey = Annotated[
    str | None, Field(description="Key of `images`; default: inherited (llm services: the engine's image).")
]


class Scaling(StrictModel):
    """Autoscaler bounds (Modal's min_containers, max_containers, buffer_containers, scaledown_window)."""

    min_containers: Annotated[
        int, Field(ge=0, description="Containers kept warm even without traffic (they cost money).")
    ] = DEFAULT_MIN_CONTAINERS
    max_containers: Annotated[int | None, Field(ge=1, description="Upper bound on containers; default: no limit.")] = (
        None
    )
    buffer_containers: Annotated[int, Field(ge=0, description="Extra idle containers kept ready while under load.")] = (
        DEFAULT_BUFFER_CONTAINERS
    )
    scaledown_window: ScaledownWindow = None

    @model_validator(mode="after")
    def _check(self) -> Scaling:
        if self.max_containers is not None and self.min_containers > self.max_containers:
            raise fail(
                f"min_containers ({self.min_containers}) is above max_containers ({self.max_containers})",
                hint="raise max_containers or lower min_containers",
                at=("min_containers",),
            )
        # Buffer containers are started within max_containers, so more of them than the maximum
        # can never exist: the setting would promise warm capacity the bound forbids.
        if self.max_containers is not None and self.buffer_containers > self.max_containers:
            raise fail(
                f"buffer_containers ({self.buffer_containers}) is above max_containers ({self.max_containers})",
                hint="raise max_containers or lower buffer_containers",
                at=("buffer_containers",),
            )
        return self


class ServerScaling(Scaling):
    """An llm service's autoscaler: `app.server` also takes a scale-up window."""

    scaleup_window: Annotated[
        Annotated[int, DurationSeconds(1, MAX_SCALEUP_WINDOW)] | None,
        Field(
            description='How long demand must stay above capacity before another container starts, e.g. "30s" (1 s to 1 h). Default: Modal\'s.'
        ),
    ] = None


def _refuse_server_only(name: str, hint: str) -> Callable[[Any], Any]:
    """A validator for a key only `app.server` has: a function or web service runs in
    `app.function`, which takes no such parameter, so the value would reach nothing. Runs only for
    a value the manifest gives."""

    def refuse(value: Any) -> Any:
        raise fail(
            f"only llm services take {name}: Modal's app.function has no such parameter, so the value would reach nothing",
            hint=hint,
        )

    return refuse


class FunctionScaling(Scaling):
    """A function's or web service's autoscaler (`app.function`: no scale-up window)."""

    scaleup_window: Annotated[
        None, Field(description="Not accepted: `app.function` has no scale-up window (llm services have one).")
    ] = None

    _scaleup_not_here = field_validator("scaleup_window", mode="before")(
        _refuse_server_only("a scale-up window", "remove it; buffer_containers keeps spare containers ready for bursts")
    )


class InputConcurrency(StrictModel):
    """Inputs one container handles at once (`@modal.concurrent(max_inputs, target_inputs)`)."""

    max_inputs: Annotated[int, Field(ge=1, description="Hard limit of concurrent inputs per container.")]
    target_inputs: Annotated[
        int | None, Field(ge=1, description="The autoscaler aims for this many; bursts may reach max_inputs.")
    ] = None

    @model_validator(mode="after")
    def _check(self) -> InputConcurrency:
        if self.target_inputs is not None and self.target_inputs > self.max_inputs:
            raise fail(
                f"target_inputs ({self.target_inputs}) is above max_inputs ({self.max_inputs})",
                hint="the target must not exceed the limit",
                at=("target_inputs",),
            )
        return self


def refuse_null_timeout(value: Any) -> Any:
    """`timeout: null` means "no timeout" in old Modal code; Modal 1.x refuses it, so say so here
    (an omitted timeout inherits from defaults; only an explicit null reaches this)."""
    if value is None:
        raise fail(
            "null is not allowed: Modal needs a timeout",
            hint='give a duration, e.g. "10m" (at most "24h"), or remove the key to inherit one',
        )
    return value


class ContainerSettings(StrictModel):
    """Fields shared by services and functions. Unset fields inherit from `defaults`."""

    image: ImageKey = None
    gpu: Annotated[Gpu | None, Field(description='GPU request: "H100", "H100:2", "A100-80GB", or a fallback list.')] = (
        None
    )
    cpu: Annotated[Cpu | None, Field(description="CPU cores to reserve (fractions allowed, in thousandths).")] = None
    memory: Annotated[MemoryMiB | None, Field(description='Memory to reserve: MiB, or "16GiB".')] = None
    ephemeral_disk: Annotated[
        EphemeralDiskMiB | None, Field(description='Ephemeral disk: MiB, or "100GiB" (at most "3TiB").')
    ] = None
    timeout: Timeout = None
    region: Region = None
    cloud: Cloud = None
    nonpreemptible: Annotated[bool, Field(description="Run on non-preemptible capacity (costs more).")] = False
    secrets: SecretKeys = ()
    env: EnvMap = {}
    volumes: VolumeMounts = {}
    buckets: BucketMounts = {}
    scaling: Annotated[Scaling, Field(description="Autoscaling bounds.")] = Scaling()

    _timeout_not_null = field_validator("timeout", mode="before")(refuse_null_timeout)

    @model_validator(mode="after")
    def _check_mounts(self) -> ContainerSettings:
        for path in self.buckets:
            if path in self.volumes:
                raise fail(
                    "a volume and a bucket are both mounted here",
                    hint="mount them at different paths",
                    at=("buckets", path),
                )
        check_one_path_per_volume(self.volumes)
        return self


class AppFunctionSettings(ContainerSettings):
    """What functions and web services (both `app.function`) add: a routing region, and a clear
    refusal of the options only `app.server` has."""

    routing_region: Annotated[
        str | None,
        Field(description='Region inputs (and HTTP requests) enter Modal through, e.g. "us-east"; default: Modal\'s.'),
    ] = None
    scaling: Annotated[FunctionScaling, Field(description="Autoscaling bounds.")] = FunctionScaling()
    models: Annotated[
        TupleOf[str],
        Field(
            description="Keys of `models` the handler loads: each is mounted from its cache volume and its path set in MDEPLOY_MODEL_<KEY>."
        ),
    ] = ()
    exit_grace_period: Annotated[
        None, Field(description="Not accepted: `app.function` has no exit grace period (llm services have one).")
    ] = None
    http2: Annotated[
        None, Field(description="Not accepted: `app.function` has no HTTP/2 switch (llm services have one).")
    ] = None

    _exit_grace_not_here = field_validator("exit_grace_period", mode="before")(
        _refuse_server_only(
            "exit_grace_period", "remove it; Modal's own shutdown handling applies to a function's containers"
        )
    )
    _http2_not_here = field_validator("http2", mode="before")(_refuse_server_only("http2", "remove it"))
