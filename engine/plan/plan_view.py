"""What a plan shows, decided once for every human format: Blueprint -> sections of labelled rows.

Text and markdown are two layouts of these same sections (render_plan.py), so they can never
disagree about what a deployment holds. Everything is read from the Blueprint: no defaults are
applied here and no manifest is read. Secrets appear by name only; a launch argument whose value
comes from a secret shows the environment variable it is read from, never a value. A value that
came from a `${VAR}` (the planner's origin record says which) is shown as that reference, whole:
a reference replaces a value or an argv element, never a piece of other text.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.blueprint.model import (
    PREFETCH_HANDLER,
    Blueprint,
    CacheSpec,
    ClassParameterSpec,
    ContainerSpec,
    FunctionSpec,
    ImageSpec,
    ImageStep,
    ModelSpec,
    MountSpec,
    ServerSpec,
)
from engine.blueprint.origins import DEFAULTS, MANIFEST, NO_ORIGINS, Origins
from engine.plan.cost import CostEstimate, ObjectCost, format_money, parse_gpu_request
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


class _Shown:
    """Renders the values of one object for a human: a value from variables as its reference."""

    def __init__(self, origins: Origins, at: tuple[str | int, ...]):
        self.origins = origins
        self.at = at

    def __call__(self, field: str | tuple[str | int, ...], value: Any, render: Callable[[Any], str] = str) -> str:
        path = (*self.at, *((field,) if isinstance(field, str) else field))
        return self.origins.text(path, value, render)

    def under(self, *fields: Any) -> _Shown:
        return _Shown(self.origins, (*self.at, *fields))

    def hidden(self, field: str | tuple[str | int, ...]) -> bool:
        path = (*self.at, *((field,) if isinstance(field, str) else field))
        return self.origins.reference(path) is not None

    def words(self, field: str, values: tuple[str, ...], join: Callable[[list[str]], str]) -> str:
        """A list of words (argv, packages), each element shown on its own: a reference stands
        for an element from variables, and is not shell-quoted (it is not what runs)."""
        out = []
        for index, value in enumerate(values):
            reference = self.origins.reference((*self.at, field, index))
            out.append(reference if reference is not None else shlex.quote(value))
        return join(out)


def plan_sections(blueprint: Blueprint, cost: CostEstimate, origins: Origins = NO_ORIGINS) -> list[Section]:
    costs = {(o.kind, o.key): o for o in cost.objects}

    def named(collection: str, key: str) -> _Shown:
        return _Shown(origins, (collection, key))

    # A bucket's credentials secret is Modal's to use for the mount (CloudBucketMount(secret=)),
    # not an env secret of the function: the plan shows it on the mount, where it applies.
    bucket_secrets = {b.key: named("buckets", b.key)("secret", b.secret) for b in blueprint.buckets if b.secret}
    sections = [
        Section(
            "Services",
            tuple(
                _server_entry(s, costs[("server", s.key)], _Shown(origins, ("servers", s.key)), bucket_secrets)
                for s in blueprint.servers
            ),
        ),
        Section(
            "Functions",
            tuple(
                _function_entry(f, costs[("function", f.key)], _Shown(origins, ("functions", f.key)), bucket_secrets)
                for f in blueprint.functions
            ),
        ),
        Section(
            "Models",
            tuple(_model_entry(m, named("models", m.key), blueprint) for m in blueprint.models),
            notes=("sizes: `mdeploy preflight` reads each hub model's from the Hub",) if blueprint.models else (),
        ),
        Section("Images", tuple(_image_entry(i, _Shown(origins, ("images", i.key))) for i in blueprint.images)),
        Section(
            "Volumes",
            tuple(
                Entry(
                    v.key,
                    f"Modal volume {named('volumes', v.key)('name', v.name)}",
                    (
                        (
                            "created if missing",
                            named("volumes", v.key)("create_if_missing", v.create_if_missing, _yes_no),
                        ),
                    ),
                )
                for v in blueprint.volumes
            ),
        ),
        Section(
            "Secrets",
            tuple(
                Entry(
                    s.key,
                    f"Modal secret {named('secrets', s.key)('name', s.name)}",
                    _rows(
                        ("required keys", named("secrets", s.key).words("required_keys", s.required_keys, ", ".join))
                    ),
                )
                for s in blueprint.secrets
            ),
            notes=("names only: mdeploy never reads or shows secret values",) if blueprint.secrets else (),
        ),
        Section(
            "Dicts",
            tuple(
                Entry(d.key, f"Modal dict {named('dicts', d.key)('name', d.name)}{_must_exist(d)}")
                for d in blueprint.dicts
            ),
        ),
        Section(
            "Queues",
            tuple(
                Entry(q.key, f"Modal queue {named('queues', q.key)('name', q.name)}{_must_exist(q)}")
                for q in blueprint.queues
            ),
        ),
        Section("Buckets", tuple(_bucket_entry(b, _Shown(origins, ("buckets", b.key))) for b in blueprint.buckets)),
    ]
    sections.append(cost_section(cost, cost_references(blueprint, origins)))
    return [s for s in sections if s.entries or s.title == "Cost estimate"]


def prefetch_function(blueprint: Blueprint) -> FunctionSpec | None:
    """The function the planner adds to fetch the models' weights, if any."""
    return next((f for f in blueprint.functions if f.handler == PREFETCH_HANDLER), None)


def _model_entry(model: ModelSpec, show: _Shown, blueprint: Blueprint) -> Entry:
    if model.repo is not None:
        summary = f"hub model {show('repo', model.repo)}"
    else:
        summary = f"folder {show('folder', model.folder)} of volume {show('volume', model.volume)}"
    prefetch = prefetch_function(blueprint)
    fetched = (
        f"by function {prefetch.key} (MDEPLOY_MANIFEST=... modal run engine/entry.py::{prefetch.symbol})"
        if prefetch is not None and model.repo is not None and model.volume is not None and model.used_by
        else ""
    )
    return Entry(
        model.key,
        summary,
        _rows(
            ("revision", show("revision", model.revision) if model.revision else ""),
            ("files", show.words("allow_patterns", model.allow_patterns, " ".join)),
            (
                "cache",
                f"volume {show('volume', model.volume)}, folder {show('folder', model.folder)}" if model.volume else "",
            ),
            ("baked into", _baked_into(model.images, show("folder", model.folder))),
            ("env", show("env", model.env)),
            ("secret", show("secret", model.secret) if model.secret else ""),
            ("used by", ", ".join(model.used_by) or "nothing (a warning)"),
            ("prefetch", fetched),
        ),
    )


def _baked_into(images: tuple[str, ...], folder: str) -> str:
    """The images that hold a model (fetched in while they build): their users read it there."""
    if not images:
        return ""
    return ("image " if len(images) == 1 else "images ") + ", ".join(images) + f", folder {folder}"


def _must_exist(spec: Any) -> str:
    """A dict or queue that is not created: the first access fails unless it already exists."""
    return "" if spec.create_if_missing else " (must exist: not created)"


def _bucket_entry(bucket: Any, show: _Shown) -> Entry:
    return Entry(
        bucket.key,
        f"cloud bucket {show('bucket_name', bucket.bucket_name)}",
        _rows(
            ("secret", show("secret", bucket.secret or "")),
            ("read only", show("read_only", bucket.read_only, _yes_no)),
            ("key prefix", show("key_prefix", bucket.key_prefix or "")),
            ("endpoint", show("bucket_endpoint_url", bucket.bucket_endpoint_url or "")),
            ("requester pays", show("requester_pays", bucket.requester_pays, lambda v: "yes" if v else "")),
        ),
    )


def launch_command(server: ServerSpec, origins: Origins = NO_ORIGINS) -> str:
    """The argv as a shell line; secret-valued arguments as `FLAG "$ENV"`, read at launch;
    an element from variables as its reference."""
    show = _Shown(origins, ("servers", server.key))
    line = show.words("command", server.command, " ".join)
    for index, arg in enumerate(server.secret_args):
        # The variable's name itself may come from a `${VAR}` (auth.api_key_env): then say so.
        named = show(("secret_args", index, "env"), arg.env, lambda env: f'"${env}"')
        line += f" {shlex.quote(arg.flag)} {named}"
    return line


def _cluster_line(server: ServerSpec) -> str:
    """A clustered server: how many containers one replica is, and what each adds to the command."""
    cluster = server.cluster
    if cluster is None:
        return ""
    line = f"{cluster.nodes} nodes per replica (@modal.clustered), RDMA {'on' if cluster.rdma else 'off'}"
    line += f"; scaling counts nodes; every node adds {' '.join(cluster.rank_args)}"
    if cluster.worker_args:
        line += f", nodes other than rank 0 add {' '.join(cluster.worker_args)}"
    return line + "; requests reach rank 0 only"


def _adapters_line(server: ServerSpec, show: _Shown) -> str:
    """LoRA adapters: the name requests send as "model", the `models:` key, where the engine reads it."""
    return "; ".join(
        f"{show(('lora_adapters', i, 'name'), a.name)} (model {show(('lora_adapters', i, 'model'), a.model)}) "
        f"at {show(('lora_adapters', i, 'path'), a.path)}"
        for i, a in enumerate(server.lora_adapters)
    )


def _server_entry(server: ServerSpec, cost: ObjectCost, show: _Shown, bucket_secrets: dict[str, str]) -> Entry:
    served_as = show("served_model_name", server.served_model_name)
    model = show("model", server.model)
    served = f" (served as {served_as})" if served_as != model else ""
    is_command = server.kind == "server"  # `kind: server`: no engine, no model
    concurrency = ", ".join(
        part
        for part in (
            f"target {show('target_concurrency', server.target_concurrency)}"
            if server.target_concurrency is not None
            else "",
            f"max {show('max_concurrency', server.max_concurrency)}" if server.max_concurrency is not None else "",
        )
        if part
    )
    snapshot = ""
    if server.snapshot:
        snapshot = f"sleep {server.snapshot.sleep_path}, wake {server.snapshot.wake_path}"
    rows = _rows(
        ("model", "" if is_command else f"{model}{served}"),
        ("adapters", _adapters_line(server, show)),
        *_container_rows(server.container, show.under("container"), bucket_secrets),
        ("caches", "; ".join(_cache(c) for c in server.caches)),
        ("concurrency", concurrency),
        (
            "port",
            f"{show('port', server.port)}, health {show('health_path', server.health_path)}"
            f"{' (any answer means ready)' if server.ready_on_any_answer else ''}, "
            f"startup timeout {show('startup_timeout', server.startup_timeout, format_duration)}",
        ),
        ("command", launch_command(server, show.origins)),
        ("cluster", _cluster_line(server)),
        ("warmup", _warmup(server, show)),
        ("snapshot", snapshot),
        (
            "auth",
            show(
                "requires_proxy_auth",
                server.requires_proxy_auth,
                lambda on: "Modal proxy auth" if on else "none (public URL)",
            ),
        ),
        ("routing region", show("routing_region", server.routing_region or "")),
        ("exit grace", show("exit_grace_period", server.exit_grace_period, lambda s: format_duration(s) if s else "")),
        ("http/2", show("h2_enabled", server.h2_enabled, lambda on: "on" if on else "")),
        ("cost", _cost_line(cost, _cost_hidden(server.container, show.under("container")))),
    )
    what = "server (its own command)" if is_command else f"{show('engine', server.engine)} server"
    return Entry(server.key, f"{what}, Modal name {server.name}, class {server.symbol}", rows)


def _cache(cache: CacheSpec) -> str:
    """An engine cache the manifest changed or serves itself (the others are plain mounts)."""
    if cache.state == "off":
        return f"{cache.name} off (no volume at {cache.path})"
    if cache.state == "user":
        return f"{cache.name} at {cache.path} <- your volume {cache.volume}"
    return f"{cache.name} at {cache.path} <- volume {cache.volume}"


def _warmup(server: ServerSpec, show: _Shown) -> str:
    """With a snapshot, say when the warm-up runs, and that none is a choice (`warmup: false`)."""
    if server.warmup is None:
        return "none: the snapshot holds an engine no request has warmed up" if server.snapshot else ""
    w = server.warmup
    text = f"{show(('warmup', 'requests'), w.requests)} × {w.method} {show(('warmup', 'path'), w.path)}"
    body_origin = show.origins.get((*show.at, "warmup", "body"))
    # The engine's own chat request is not repeated here; a body the manifest wrote is.
    if w.body and (server.kind == "server" or (body_origin is not None and body_origin.kind in (MANIFEST, DEFAULTS))):
        text += f" {show(('warmup', 'body'), w.body)}"
    if w.status is not None:
        text += f", expect {show(('warmup', 'status'), w.status)}"
    if not w.fatal:
        text += ", a failure is logged, not fatal"
    return f"{text}, before the snapshot (warmup: false skips it)" if server.snapshot else text


def _function_entry(function: FunctionSpec, cost: ObjectCost, show: _Shown, bucket_secrets: dict[str, str]) -> Entry:
    concurrency = ""
    if function.concurrency:
        c = show.under("concurrency")
        target = function.concurrency.target_inputs
        concurrency = f"max {c('max_inputs', function.concurrency.max_inputs)} inputs" + (
            f", target {c('target_inputs', target)}" if target is not None else ""
        )
    batching = ""
    if function.batching:
        b = show.under("batching")
        batching = (
            f"up to {b('max_batch_size', function.batching.max_batch_size)} inputs, "
            f"wait {b('wait_ms', function.batching.wait_ms)} ms"
        )
    rows = _rows(
        ("handler", show("handler", function.handler)),
        *_container_rows(
            function.container,
            show.under("container"),
            bucket_secrets,
            timeout=show("timeout", function.timeout, format_duration),
        ),
        ("schedule", _schedule(function, show.under("schedule"))),
        ("retries", _retries(function, show.under("retries"))),
        ("concurrency", concurrency),
        ("batching", batching),
        ("web", _web(function, show.under("web"))),
        *_class_rows(function, show.under("cls")),
        ("max inputs", show("max_inputs", function.max_inputs, lambda n: f"{n} per container" if n else "")),
        ("routing region", show("routing_region", function.routing_region or "")),
        ("cost", _cost_line(cost, _cost_hidden(function.container, show.under("container")))),
    )
    what = "class (app.cls)" if function.cls is not None else "function"
    return Entry(function.key, f"{what}, Modal name {function.name}, symbol {function.symbol}", rows)


def _class_rows(function: FunctionSpec, show: _Shown) -> list[tuple[str, str]]:
    """A `kind: cls` function: its hooks in the order they run, its methods, the batched one."""
    cls = function.cls
    if cls is None:
        return []
    batched = ", ".join(f"{b.name} (up to {b.max_batch_size} inputs, wait {b.wait_ms} ms)" for b in cls.batched)
    snapshot = function.container.enable_memory_snapshot
    enter_when = " (in this order, after each restore)" if snapshot else " (in this order, at container start)"
    return [
        ("parameters", ", ".join(_parameter(p, show.under("parameters", i)) for i, p in enumerate(cls.parameters))),
        (
            "before snapshot",
            show("before_snapshot", ", ".join(cls.before_snapshot))
            + (" (in this order, once, kept in the snapshot)" if cls.before_snapshot else ""),
        ),
        ("enter", show("enter", ", ".join(cls.enter)) + (enter_when if cls.enter else "")),
        (
            "startup timeout",
            show("startup_timeout", cls.startup_timeout, format_duration) if cls.startup_timeout else "",
        ),
        ("methods", show("methods", ", ".join(cls.methods))),
        ("batched", show("batched", batched)),
        ("exit", show("exit", ", ".join(cls.exit)) + (" (in this order, at shutdown)" if cls.exit else "")),
    ]


def _parameter(parameter: ClassParameterSpec, show: _Shown) -> str:
    """`name: type = default` as the Modal class declares it; no default: callers must give it.
    A type or default from a variable is shown as its reference."""
    kind = show("type", parameter.type)
    if parameter.default is None:
        return f"{parameter.name}: {kind} (required)"

    return f"{parameter.name}: {kind} = {show('default', parameter.default, lambda _: repr(parameter.python_default))}"


def _container_rows(
    container: ContainerSpec, show: _Shown, bucket_secrets: dict[str, str], *, timeout: str = ""
) -> list[tuple[str, str]]:
    """`timeout` is a function's, as shown; a server has none (`app.server` takes no timeout)."""
    scaling = container.scaling
    s = show.under("scaling")
    max_text = s("max_containers", scaling.max_containers, lambda n: "unbounded" if n is None else str(n))
    resources = ", ".join(
        part
        for part in (
            f"cpu {show('cpu', container.cpu, lambda c: f'{c:g}')}" if container.cpu is not None else "",
            f"memory {show('memory', container.memory, format_memory)}" if container.memory is not None else "",
            f"disk {show('ephemeral_disk', container.ephemeral_disk, format_memory)}"
            if container.ephemeral_disk is not None
            else "",
        )
        if part
    )
    snapshot = ""
    if container.enable_memory_snapshot:
        snapshot = "memory + GPU" if container.gpu_snapshot else "memory"
    mounts = "; ".join(_mount(m, show.under("mounts", i), bucket_secrets) for i, m in enumerate(container.mounts))
    gpu = tuple(show(("gpu", i), g) for i, g in enumerate(container.gpu))
    env = " ".join(f"{k}={show(('env', k), v, shlex.quote)}" for k, v in sorted(container.env.items()))
    return [
        ("gpu", format_gpu(gpu)),
        ("resources", resources),
        ("image", show("image", container.image)),
        (
            "scaling",
            f"min {s('min_containers', scaling.min_containers)}, max {max_text}, "
            f"buffer {s('buffer_containers', scaling.buffer_containers)}, "
            f"scaledown after {s('scaledown_window', scaling.scaledown_window, format_duration)}"
            + (
                f", scaleup after {s('scaleup_window', scaling.scaleup_window, format_duration)}"
                if scaling.scaleup_window is not None
                else ""
            ),
        ),
        ("timeout", timeout),
        ("region", ", ".join(show(("region", i), r) for i, r in enumerate(container.region))),
        ("cloud", show("cloud", container.cloud or "")),
        ("nonpreemptible", show("nonpreemptible", container.nonpreemptible, lambda on: "yes" if on else "")),
        ("memory snapshot", snapshot),
        ("secrets", ", ".join(show(("secrets", i), k) for i, k in enumerate(container.secrets))),
        ("mounts", mounts),
        ("env", env),
    ]


def _mount(mount: MountSpec, show: _Shown, bucket_secrets: dict[str, str]) -> str:
    text = f"{show('path', mount.path)} <- {mount.kind} {show('source', mount.source)}"
    if mount.kind == "bucket" and mount.source in bucket_secrets:
        text += f" (credentials: secret {bucket_secrets[mount.source]})"
    return text


def _schedule(function: FunctionSpec, show: _Shown) -> str:
    schedule = function.schedule
    if schedule is None:
        return ""
    if schedule.kind == "cron":
        zone = f" ({show('timezone', schedule.timezone)})" if schedule.timezone else " (UTC)"
        cron = show("cron", schedule.cron, lambda c: f'"{c}"')
        return f"cron {cron}{zone}"
    return f"every {show('seconds', schedule.seconds or 0, format_duration)}"


def _retries(function: FunctionSpec, show: _Shown) -> str:
    retries = function.retries
    if retries is None:
        return ""
    return (
        f"{show('max_retries', retries.max_retries)}, "
        f"backoff ×{show('backoff_coefficient', retries.backoff_coefficient, lambda v: f'{v:g}')} "
        f"from {show('initial_delay', retries.initial_delay, lambda v: f'{v:g}s')} "
        f"to {show('max_delay', retries.max_delay, lambda v: f'{v:g}s')}"
    )


def _web(function: FunctionSpec, show: _Shown) -> str:
    web = function.web
    if web is None:
        return ""
    parts = [show("kind", web.kind)]
    if web.method:
        parts.append(show("method", web.method))
    if web.port is not None:
        parts.append(f"port {show('port', web.port)}")
    if web.startup_timeout is not None:
        parts.append(f"startup timeout {show('startup_timeout', web.startup_timeout, format_duration)}")
    if web.docs:
        parts.append(show("docs", web.docs, lambda _: "docs"))
    if web.label:
        parts.append(f"label {show('label', web.label)}")
    parts.append(
        show("requires_proxy_auth", web.requires_proxy_auth, lambda on: "Modal proxy auth" if on else "public")
    )
    return ", ".join(parts)


def _image_entry(image: ImageSpec, show: _Shown) -> Entry:
    if image.base == "registry":
        summary = f"from registry {show('registry_ref', image.registry_ref)}"
        if image.python_version:
            summary += f", add Python {show('python_version', image.python_version)}"
        if image.clear_entrypoint:
            summary += show("clear_entrypoint", image.clear_entrypoint, lambda _: ", entrypoint cleared")
    else:
        summary = f"{image.base}, Python {show('python_version', image.python_version or 'default')}"
    rows = tuple((f"{n + 1}.", _step(step, show.under("steps", n))) for n, step in enumerate(image.steps))
    return Entry(image.key, summary, rows)


def _step(step: ImageStep, show: _Shown) -> str:
    if step.op == "env":
        text = "env " + " ".join(f"{k}={show(('env', k), v, shlex.quote)}" for k, v in sorted(step.env.items()))
    else:
        text = f"{show('op', step.op)} {show.words('args', step.args, ' '.join)}".rstrip()
    if step.index_url:
        text += f" (index {show('index_url', step.index_url)})"
    if step.extra_index_url:
        text += f" (extra index {show('extra_index_url', step.extra_index_url)})"
    if step.find_links:
        text += f" (find links {show('find_links', step.find_links)})"
    if step.pre:
        text += show("pre", step.pre, lambda _: " (pre-releases allowed)")
    if step.ignore:
        text += f" (ignoring {show.words('ignore', step.ignore, ' '.join)})"
    if step.op in ("add_local_file", "add_local_dir"):
        text += " (copied into a layer)" if step.copy else " (added when the container starts)"
    if step.gpu:
        text += f" (gpu {show.words('gpu', step.gpu, ', '.join)})"
    if step.cpu is not None:
        text += f" (cpu {show('cpu', step.cpu, lambda c: f'{c:g}')})"
    if step.memory is not None:
        text += f" (memory {show('memory', step.memory, format_memory)})"
    if step.secrets:
        text += f" (secrets {show.words('secrets', step.secrets, ', '.join)})"
    if step.op == "run_function" and step.env:
        text += (
            " (env " + " ".join(f"{k}={show(('env', k), v, shlex.quote)}" for k, v in sorted(step.env.items())) + ")"
        )
    if step.mounts:
        text += " (mounts " + "; ".join(_mount(m, show.under("mounts", i), {}) for i, m in enumerate(step.mounts)) + ")"
    if step.models:
        text += f" (models {show.words('models', step.models, ', '.join)})"
    if step.timeout is not None:
        text += f" (timeout {show('timeout', step.timeout, format_duration)})"
    return text


def _cost_hidden(container: ContainerSpec, show: _Shown) -> dict[str, str]:
    """What cost text names that came from variables -> its reference: GPU requests (with the GPU
    type parsed from each) and regions (priced by their multiplier)."""
    hidden: dict[str, str] = {}
    for index, request in enumerate(container.gpu):
        if show.hidden(("gpu", index)):
            hidden[request] = show(("gpu", index), request)
            hidden.setdefault(parse_gpu_request(request)[0], f"(from {hidden[request]})")
    for index, region in enumerate(container.region):
        if show.hidden(("region", index)):
            hidden[region] = show(("region", index), region)
    return hidden


def cost_references(blueprint: Blueprint, origins: Origins = NO_ORIGINS) -> dict[str, str]:
    """For `cost_section`: what the cost text names that came from variables -> its reference."""
    hidden: dict[str, str] = {}
    for collection, specs in (("servers", blueprint.servers), ("functions", blueprint.functions)):
        for spec in specs:
            hidden.update(_cost_hidden(spec.container, _Shown(origins, (collection, spec.key, "container"))))
    return hidden


def _without(text: str, hidden: dict[str, str]) -> str:
    """Cost text names the GPU requests and regions it priced; those from variables become their
    references (whole words only: the request strings are what cost.py put in)."""
    if not hidden:
        return text
    pattern = re.compile(
        "|".join(rf"(?<![\w.-]){re.escape(g)}(?![\w-])" for g in sorted(hidden, key=len, reverse=True))
    )
    return pattern.sub(lambda m: hidden[m.group(0)], text)


def _cost_line(cost: ObjectCost, hidden: dict[str, str]) -> str:
    line = (
        f"idle {format_money(cost.idle_per_hour)}, "
        f"peak {format_money(cost.peak_per_hour, unbounded=cost.peak_unbounded)}"
    )
    if cost.breakdown is not None:
        parts = [f"GPU {format_money(cost.breakdown.gpu)}"] if cost.gpu else []
        parts += [f"CPU {format_money(cost.breakdown.cpu)}", f"memory {format_money(cost.breakdown.memory)}"]
        line += f" ({format_money(cost.per_container)} per container: {', '.join(parts)})"
    if cost.notes:
        line += f"; {_without('; '.join(cost.notes), hidden)}"
    return line


def cost_section(cost: CostEstimate, hidden: dict[str, str] | None = None) -> Section:
    """The cost table of a plan (and of `mdeploy cost`): per object and in total. `hidden`
    (`cost_references`) names what came from variables, shown as its reference."""
    hidden = hidden or {}
    entries = [
        Entry(
            f"{o.kind} {o.key}",
            _without(o.priced_gpu, hidden) if o.priced_gpu else "no GPU",
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
        f"GPU, CPU and memory requests, {cost.currency}; idle = min_containers running, peak = max_containers running",
        f"prices from {cost.source_url}, as of {cost.as_of}",
    ]
    if cost.unpriced:
        notes.append(_without(f"not in the totals (no price known): {', '.join(cost.unpriced)}", hidden))
    return Section(
        "Cost estimate", tuple(entries), tuple(notes), columns=("object", "GPU", "per container", "idle", "peak")
    )


def _rows(*rows: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """Rows with a value: an unset option is left out rather than printed as empty."""
    return tuple((label, value) for label, value in rows if value)


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
