"""What a plan shows, decided once for every human format: Blueprint -> sections of labelled rows.

Text and markdown are two layouts of these same sections (render_plan.py), so they can never
disagree about what a deployment holds. Everything is read from the Blueprint: no defaults are
applied here and no manifest is read. Secrets appear by name only; a launch argument whose value
comes from a secret shows the environment variable it is read from, never a value.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from engine.blueprint.model import (
    Blueprint,
    ContainerSpec,
    FunctionSpec,
    ImageSpec,
    ImageStep,
    MountSpec,
    ServerSpec,
)
from engine.plan.cost import CostEstimate, ObjectCost, format_money
from engine.plan.units import format_duration, format_gpu, format_memory


@dataclass(frozen=True)
class Entry:
    """One object of the app: a name, a one-line summary, then (label, value) rows."""

    name: str
    summary: str
    rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Section:
    title: str
    entries: tuple[Entry, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    # When set, a table instead of blocks: one line per entry (name, summary, then the row
    # values), under these column titles.
    columns: tuple[str, ...] = ()

    @property
    def tabular(self) -> bool:
        return bool(self.columns)


def plan_sections(blueprint: Blueprint, cost: CostEstimate) -> list[Section]:
    costs = {(o.kind, o.key): o for o in cost.objects}
    # A bucket's credentials secret is Modal's to use for the mount (CloudBucketMount(secret=)),
    # not an env secret of the function: the plan shows it on the mount, where it applies.
    bucket_secrets = {b.key: b.secret for b in blueprint.buckets if b.secret}
    sections = [
        Section("Services", tuple(_server_entry(s, costs[("server", s.key)], bucket_secrets) for s in blueprint.servers)),
        Section(
            "Functions",
            tuple(_function_entry(f, costs[("function", f.key)], bucket_secrets) for f in blueprint.functions),
        ),
        Section("Images", tuple(_image_entry(i) for i in blueprint.images)),
        Section(
            "Volumes",
            tuple(
                Entry(v.key, f"Modal volume {v.name}", (("created if missing", _yes_no(v.create_if_missing)),))
                for v in blueprint.volumes
            ),
        ),
        Section(
            "Secrets",
            tuple(
                Entry(s.key, f"Modal secret {s.name}", _rows(("required keys", ", ".join(s.required_keys))))
                for s in blueprint.secrets
            ),
            notes=("names only: mdeploy never reads or shows secret values",) if blueprint.secrets else (),
        ),
        Section("Dicts", tuple(Entry(d.key, f"Modal dict {d.name}") for d in blueprint.dicts)),
        Section("Queues", tuple(Entry(q.key, f"Modal queue {q.name}") for q in blueprint.queues)),
        Section(
            "Buckets",
            tuple(
                Entry(
                    b.key,
                    f"cloud bucket {b.bucket_name}",
                    _rows(
                        ("secret", b.secret or ""),
                        ("read only", _yes_no(b.read_only)),
                        ("key prefix", b.key_prefix or ""),
                        ("endpoint", b.bucket_endpoint_url or ""),
                        ("requester pays", "yes" if b.requester_pays else ""),
                    ),
                )
                for b in blueprint.buckets
            ),
        ),
    ]
    sections.append(cost_section(cost))
    return [s for s in sections if s.entries or s.title == "Cost estimate"]


def launch_command(server: ServerSpec) -> str:
    """The argv as a shell line; secret-valued arguments as `FLAG "$ENV"`, read at launch."""
    line = shlex.join(server.command)
    for arg in server.secret_args:
        line += f' {shlex.quote(arg.flag)} "${arg.env}"'
    return line


def _server_entry(server: ServerSpec, cost: ObjectCost, bucket_secrets: dict[str, str]) -> Entry:
    served = f" (served as {server.served_model_name})" if server.served_model_name != server.model else ""
    concurrency = ", ".join(
        part
        for part in (
            f"target {server.target_concurrency}" if server.target_concurrency is not None else "",
            f"max {server.max_concurrency}" if server.max_concurrency is not None else "",
        )
        if part
    )
    rows = _rows(
        ("model", f"{server.model}{served}"),
        *_container_rows(server.container, bucket_secrets),
        ("concurrency", concurrency),
        ("port", f"{server.port}, health {server.health_path}, startup timeout {format_duration(server.startup_timeout)}"),
        ("command", launch_command(server)),
        ("warmup", _warmup(server)),
        ("snapshot", f"sleep {server.snapshot.sleep_path}, wake {server.snapshot.wake_path}" if server.snapshot else ""),
        ("auth", "Modal proxy auth" if server.requires_proxy_auth else "none (public URL)"),
        ("routing region", server.routing_region or ""),
        ("exit grace", format_duration(server.exit_grace_period) if server.exit_grace_period else ""),
        ("cost", _cost_line(cost)),
    )
    return Entry(server.key, f"{server.engine} server, Modal name {server.name}, class {server.symbol}", rows)


def _warmup(server: ServerSpec) -> str:
    """With a snapshot, say when the warm-up runs, and that none is a choice (`warmup: false`)."""
    if server.warmup is None:
        return "none: the snapshot holds an engine no request has warmed up" if server.snapshot else ""
    text = f"{server.warmup.requests} × POST {server.warmup.path}"
    return f"{text}, before the snapshot (warmup: false skips it)" if server.snapshot else text


def _function_entry(function: FunctionSpec, cost: ObjectCost, bucket_secrets: dict[str, str]) -> Entry:
    rows = _rows(
        ("handler", function.handler),
        *_container_rows(function.container, bucket_secrets, timeout=function.timeout),
        ("schedule", _schedule(function)),
        ("retries", _retries(function)),
        (
            "concurrency",
            _concurrency(function.concurrency.max_inputs, function.concurrency.target_inputs)
            if function.concurrency
            else "",
        ),
        (
            "batching",
            f"up to {function.batching.max_batch_size} inputs, wait {function.batching.wait_ms} ms"
            if function.batching
            else "",
        ),
        ("web", _web(function)),
        ("max inputs", f"{function.max_inputs} per container" if function.max_inputs else ""),
        ("cost", _cost_line(cost)),
    )
    return Entry(function.key, f"function, Modal name {function.name}, symbol {function.symbol}", rows)


def _container_rows(
    container: ContainerSpec, bucket_secrets: dict[str, str], *, timeout: int | None = None
) -> list[tuple[str, str]]:
    """`timeout` is a function's; a server has none (`app.server` takes no timeout)."""
    scaling = container.scaling
    max_text = "unbounded" if scaling.max_containers is None else str(scaling.max_containers)
    resources = ", ".join(
        part
        for part in (
            f"cpu {container.cpu:g}" if container.cpu is not None else "",
            f"memory {format_memory(container.memory)}" if container.memory is not None else "",
            f"disk {format_memory(container.ephemeral_disk)}" if container.ephemeral_disk is not None else "",
        )
        if part
    )
    snapshot = ""
    if container.enable_memory_snapshot:
        snapshot = "memory + GPU" if container.gpu_snapshot else "memory"
    mounts = "; ".join(_mount(m, bucket_secrets) for m in container.mounts)
    return [
        ("gpu", format_gpu(container.gpu)),
        ("resources", resources),
        ("image", container.image),
        (
            "scaling",
            f"min {scaling.min_containers}, max {max_text}, buffer {scaling.buffer_containers}, "
            f"scaledown after {format_duration(scaling.scaledown_window)}",
        ),
        ("timeout", format_duration(timeout) if timeout is not None else ""),
        ("region", ", ".join(container.region)),
        ("cloud", container.cloud or ""),
        ("nonpreemptible", "yes" if container.nonpreemptible else ""),
        ("memory snapshot", snapshot),
        ("secrets", ", ".join(container.secrets)),
        ("mounts", mounts),
        ("env", " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(container.env.items()))),
    ]


def _mount(mount: MountSpec, bucket_secrets: dict[str, str]) -> str:
    text = f"{mount.path} <- {mount.kind} {mount.source}"
    if mount.kind == "bucket" and mount.source in bucket_secrets:
        text += f" (credentials: secret {bucket_secrets[mount.source]})"
    return text


def _schedule(function: FunctionSpec) -> str:
    schedule = function.schedule
    if schedule is None:
        return ""
    if schedule.kind == "cron":
        zone = f" ({schedule.timezone})" if schedule.timezone else " (UTC)"
        return f'cron "{schedule.cron}"{zone}'
    return f"every {format_duration(schedule.seconds or 0)}"


def _retries(function: FunctionSpec) -> str:
    retries = function.retries
    if retries is None:
        return ""
    return (
        f"{retries.max_retries}, backoff ×{retries.backoff_coefficient:g} "
        f"from {retries.initial_delay:g}s to {retries.max_delay:g}s"
    )


def _concurrency(max_inputs: int, target_inputs: int | None) -> str:
    target = f", target {target_inputs}" if target_inputs is not None else ""
    return f"max {max_inputs} inputs{target}"


def _web(function: FunctionSpec) -> str:
    web = function.web
    if web is None:
        return ""
    parts = [web.kind]
    if web.method:
        parts.append(web.method)
    if web.port is not None:
        parts.append(f"port {web.port}")
    if web.startup_timeout is not None:
        parts.append(f"startup timeout {format_duration(web.startup_timeout)}")
    if web.docs:
        parts.append("docs")
    if web.label:
        parts.append(f"label {web.label}")
    parts.append("Modal proxy auth" if web.requires_proxy_auth else "public")
    return ", ".join(parts)


def _image_entry(image: ImageSpec) -> Entry:
    if image.base == "registry":
        summary = f"from registry {image.registry_ref}"
        if image.python_version:
            summary += f", add Python {image.python_version}"
        if image.clear_entrypoint:
            summary += ", entrypoint cleared"
    else:
        summary = f"{image.base}, Python {image.python_version or 'default'}"
    rows = tuple((f"{n}.", _step(step)) for n, step in enumerate(image.steps, start=1))
    return Entry(image.key, summary, rows)


def _step(step: ImageStep) -> str:
    if step.op == "env":
        text = f"env {' '.join(f'{k}={shlex.quote(v)}' for k, v in sorted(step.env.items()))}"
    else:
        text = f"{step.op} {' '.join(shlex.quote(a) for a in step.args)}".rstrip()
    if step.index_url:
        text += f" (index {step.index_url})"
    if step.extra_index_url:
        text += f" (extra index {step.extra_index_url})"
    return text


def _cost_line(cost: ObjectCost) -> str:
    line = (
        f"idle {format_money(cost.idle_per_hour)}, "
        f"peak {format_money(cost.peak_per_hour, unbounded=cost.peak_unbounded)}"
    )
    if cost.breakdown is not None:
        parts = [f"GPU {format_money(cost.breakdown.gpu)}"] if cost.gpu else []
        parts += [f"CPU {format_money(cost.breakdown.cpu)}", f"memory {format_money(cost.breakdown.memory)}"]
        line += f" ({format_money(cost.per_container)} per container: {', '.join(parts)})"
    if cost.notes:
        line += f"; {'; '.join(cost.notes)}"
    return line


def cost_section(cost: CostEstimate) -> Section:
    """The cost table of a plan (and of `mdeploy cost`): per object and in total."""
    entries = [
        Entry(
            f"{o.kind} {o.key}",
            o.priced_gpu or "no GPU",
            (
                ("per container", format_money(o.per_container)),
                ("idle", format_money(o.idle_per_hour)),
                ("peak", format_money(o.peak_per_hour, unbounded=o.peak_unbounded)),
            ),
        )
        for o in cost.objects
    ]
    entries.append(
        Entry(
            "total",
            "",
            (
                ("per container", ""),
                ("idle", format_money(cost.idle_per_hour)),
                ("peak", format_money(cost.peak_per_hour, unbounded=cost.peak_unbounded)),
            ),
        )
    )
    notes = [
        f"GPU, CPU and memory requests, {cost.currency}; idle = min_containers running, "
        "peak = max_containers running",
        f"prices from {cost.source_url}, as of {cost.as_of}",
    ]
    if cost.unpriced:
        notes.append(f"not in the totals (no price known): {', '.join(cost.unpriced)}")
    return Section("Cost estimate", tuple(entries), tuple(notes), columns=("object", "GPU", "per container", "idle", "peak"))


def _rows(*rows: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """Rows with a value: an unset option is left out rather than printed as empty."""
    return tuple((label, value) for label, value in rows if value)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
