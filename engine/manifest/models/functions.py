"""Functions: handlers given by import path, run on demand, on a schedule, or behind a web
endpoint, with retries, concurrency or dynamic batching."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator

from engine.manifest.models.base import StrictModel, fail
from engine.manifest.models.container import AppFunctionSettings, InputConcurrency
from engine.manifest.models.cron import CronError, check_cron, check_timezone
from engine.manifest.models.shorthands import DurationSeconds, ImportPath
from engine.manifest.models.web import HttpMethod, check_label

MAX_RETRIES = 10
DEFAULT_BACKOFF = 2.0
DEFAULT_INITIAL_DELAY = 1
DEFAULT_MAX_DELAY = 60
DEFAULT_TIMEZONE = "UTC"
MAX_BATCH_SIZE = 1000
MAX_BATCH_WAIT_MS = 10 * 60 * 1000


def _retries_shorthand(value: Any) -> Any:
    return {"count": value} if isinstance(value, int) and not isinstance(value, bool) else value


class Retries(StrictModel):
    """Retry a failed input with exponential backoff (`modal.Retries`)."""

    count: Annotated[int, Field(ge=0, le=MAX_RETRIES, description="Retries after the first failure.")]
    backoff: Annotated[float, Field(ge=1.0, le=10.0, description="Delay multiplier per retry (1 = fixed delay).")] = (
        DEFAULT_BACKOFF
    )
    initial_delay: Annotated[
        int, DurationSeconds(0, 60), Field(description="Delay before the first retry (0-60 s).")
    ] = DEFAULT_INITIAL_DELAY
    max_delay: Annotated[int, DurationSeconds(1, 60), Field(description="Longest delay between retries (1-60 s).")] = (
        DEFAULT_MAX_DELAY
    )


RetriesField = Annotated[
    Retries | None,
    BeforeValidator(
        _retries_shorthand, json_schema_input_type=Annotated[int, Field(ge=0, le=MAX_RETRIES)] | Retries | None
    ),
    Field(description="A count (`3`) or {count, backoff, initial_delay, max_delay}."),
]


class CronSchedule(StrictModel):
    """Run at times given by a five-field cron expression, in a time zone."""

    cron: Annotated[str, Field(description='Five-field cron expression, e.g. "0 3 * * *" (03:00 daily).')]
    timezone: Annotated[str, Field(description='IANA time zone, e.g. "Europe/Berlin".')] = DEFAULT_TIMEZONE

    @model_validator(mode="after")
    def _check(self) -> CronSchedule:
        try:
            check_cron(self.cron)
        except CronError as exc:
            raise fail(exc.message, hint=exc.hint, at=("cron",)) from None
        suggestion = check_timezone(self.timezone)
        if suggestion is not None:
            hint = f"did you mean '{suggestion}'?" if suggestion else 'write an IANA name like "Europe/Berlin" or "UTC"'
            raise fail("is not a known time zone", hint=hint, at=("timezone",))
        return self


class PeriodSchedule(StrictModel):
    """Run every so often, counted from deployment."""

    every: Annotated[int, DurationSeconds(1), Field(description='Interval, e.g. "4h", "30m", "1d".')]


def _schedule_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        has_cron, has_every = "cron" in value, "every" in value
        if has_cron != has_every:
            return "cron" if has_cron else "every"
        return None
    if isinstance(value, (CronSchedule, PeriodSchedule)):
        return "cron" if isinstance(value, CronSchedule) else "every"
    return None


Schedule = Annotated[
    Annotated[CronSchedule, Tag("cron")] | Annotated[PeriodSchedule, Tag("every")],
    Discriminator(
        _schedule_kind,
        custom_error_type="schedule_kind",
        custom_error_message="a schedule has either `cron` (with an optional `timezone`) or `every`",
    ),
]
"""`{cron: "0 3 * * *", timezone: "Europe/Berlin"}` or `{every: "4h"}`."""


class Batching(StrictModel):
    """Dynamic batching (`@modal.batched`): the handler takes lists and returns lists."""

    max_batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH_SIZE, description="Most inputs in one call (1-1000).")]
    wait_ms: Annotated[
        int, Field(ge=0, le=MAX_BATCH_WAIT_MS, description="How long to wait for a batch to fill, in ms (max 10 min).")
    ]


class FunctionWeb(StrictModel):
    """Expose the function as an HTTP endpoint (`@modal.fastapi_endpoint`)."""

    method: Annotated[HttpMethod | None, Field(description="HTTP method; default GET.")] = None
    docs: Annotated[bool, Field(description="Serve interactive /docs.")] = False
    proxy_auth: Annotated[
        bool | None,
        Field(description="Require Modal proxy auth tokens. Default: on (set false for a public endpoint)."),
    ] = None
    label: Annotated[str | None, Field(description="Fixed URL label.")] = None

    @model_validator(mode="after")
    def _check(self) -> FunctionWeb:
        check_label(self.label)
        return self


class Function(AppFunctionSettings):
    """A handler (`package.module:attr`) run as a Modal Function."""

    kind: Annotated[
        Literal["function"], Field(description="`function` (the default): a handler run with `app.function`.")
    ] = "function"
    handler: Annotated[ImportPath, Field(description='Import path of the function to run: "package.module:attr".')]
    retries: RetriesField = None
    schedule: Annotated[
        Schedule | None, Field(description='{cron: "0 3 * * *", timezone: "UTC"} or {every: "4h"}.')
    ] = None
    concurrency: Annotated[InputConcurrency | None, Field(description="Inputs one container handles at once.")] = None
    batching: Annotated[Batching | None, Field(description="Dynamic batching; exclusive with concurrency and web.")] = (
        None
    )
    web: Annotated[FunctionWeb | None, Field(description="Expose as an HTTP endpoint.")] = None
    max_inputs: Annotated[
        int | None,
        Field(ge=1, description="Inputs a container handles before it is replaced (1: single-use containers)."),
    ] = None

    @model_validator(mode="after")
    def _check(self) -> Function:
        if self.batching is not None and self.concurrency is not None:
            raise fail(
                "batching and concurrency cannot be combined (Modal refuses both)",
                hint="keep one of them",
                at=("batching",),
            )
        if self.batching is not None and self.web is not None:
            raise fail(
                "a batched function cannot be a web endpoint", hint="remove `web`, or batching", at=("batching",)
            )
        # A scheduled run is a call without arguments: an endpoint expects an HTTP request, and a
        # batched function one list per parameter, so Modal would fail every scheduled run.
        if self.schedule is not None and self.web is not None:
            raise fail(
                "a web endpoint cannot run on a schedule (a scheduled run is a call without a request)",
                hint="split it into two functions: one with `web`, one with `schedule`",
                at=("schedule",),
            )
        if self.schedule is not None and self.batching is not None:
            raise fail(
                "a batched function cannot run on a schedule (a scheduled run passes no inputs to batch)",
                hint="remove `batching`, or the schedule",
                at=("schedule",),
            )
        return self


__all__ = ["Batching", "CronSchedule", "Function", "FunctionWeb", "PeriodSchedule", "Retries", "Schedule"]
