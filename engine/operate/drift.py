"""What the deployed app runs against what its manifest plans now, as a Blueprint diff.

The deployed side is built, never guessed:

1. its baseline is the Blueprint of the deployed commit, when the live version carries an mdeploy
   tag (`<commit>-<content hash>`) and the manifest at that commit plans to exactly that content
   hash; otherwise the baseline is the manifest as it is now, so that what Modal cannot report
   shows no change rather than an invented one, and the report says which fields those are;
2. every field Modal does report (`modal app info`, `modal server|function info`,
   `modal server|function autoscaler settings`) replaces the baseline's: which objects exist,
   GPUs, CPU, memory, disk, regions, cloud, timeouts, ports, auth, concurrency, batching, retries
   and the autoscaler settings as they are now, run-time overrides included.

The two Blueprints then go through the ordinary diff (engine/plan/diff.py) and its renderers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.blueprint.model import (
    BatchingSpec,
    Blueprint,
    ConcurrencySpec,
    ContainerSpec,
    FunctionSpec,
    RetrySpec,
    ScalingSpec,
    ServerSpec,
)
from engine.errors import UserError
from engine.manifest.errors import ManifestError
from engine.operate.readback import LiveApp, LiveObject
from engine.operate.tagging import DeployTag, content_hash
from engine.plan.cost import load_price_table, parse_gpu_request

DEPLOYED = "deployed"
PLANNED = "manifest now"
UNKNOWN_IMAGE = "(not reported by Modal)"

# Fields Modal's read-back cannot show; compared only when the deployed commit is known.
NOT_REPORTED = (
    "image build steps (Modal reports an image id, not its recipe)",
    "launch commands, engine and model settings",
    "environment variables",
    "volume, bucket and secret attachments",
    "schedules",
    "max_concurrency of servers",
)


@dataclass(frozen=True)
class Baseline:
    blueprint: Blueprint
    description: str
    from_deployed_commit: bool


def deployed_baseline(planned: Blueprint, manifest: Path, env: str | None, tag: DeployTag | None) -> Baseline:
    """The Blueprint the live version was deployed from, when it can be rebuilt exactly."""
    now = Baseline(planned, "", False)
    if tag is None:
        return dataclasses.replace(now, description="the live version has no mdeploy tag, so its commit is unknown")
    if tag.commit is None:
        return dataclasses.replace(now, description="the live version was not deployed from a git checkout")
    if tag.dirty:
        return dataclasses.replace(
            now, description=f"the live version was deployed from {tag.commit} with uncommitted changes"
        )
    from engine.review import compare, git_source

    try:
        with compare.ref_tree(manifest, tag.commit) as tree:
            relative = git_source.repo_relative(tree.repo, manifest)
            tree.add_directory(relative.parent, recursive=False)
            side, invalid = tree.plan(relative, env, planned.source)
    except (UserError, ManifestError) as exc:
        reason = exc.message if isinstance(exc, UserError) else "it does not plan there"
        return dataclasses.replace(now, description=f"commit {tag.commit} cannot be read: {reason}")
    if side is None:
        why = "it does not plan there" if invalid else "the manifest is not in it"
        return dataclasses.replace(now, description=f"commit {tag.commit} cannot be used: {why}")
    deployed = side[0]  # (Blueprint, origin record)
    if content_hash(deployed) != tag.content_hash:
        return dataclasses.replace(
            now,
            description=(
                f"the manifest at {tag.commit} plans to content {content_hash(deployed)}, not the deployed "
                f"{tag.content_hash} (a variable or the mdeploy version differs)"
            ),
        )
    return Baseline(deployed, f"the deployed commit {tag.commit} (content {tag.content_hash})", True)


# ---- live values into a Blueprint ------------------------------------------------------------


def live_blueprint(baseline: Blueprint, app: LiveApp, objects: Mapping[tuple[str, str], LiveObject]) -> Blueprint:
    """`baseline` with every object and field Modal reports replaced by what it reports."""
    servers = [_live_server(s, objects[("server", s.name)]) for s in baseline.servers if s.name in app.servers]
    functions = [
        _live_function(f, objects[("function", f.name)]) for f in baseline.functions if f.name in app.functions
    ]
    known_servers = {s.name for s in baseline.servers}
    known_functions = {f.name for f in baseline.functions}
    servers += [_unplanned_server(objects[("server", n)]) for n in app.servers if n not in known_servers]
    functions += [_unplanned_function(objects[("function", n)]) for n in app.functions if n not in known_functions]
    return dataclasses.replace(baseline, servers=tuple(servers), functions=tuple(functions))


def _live_server(spec: ServerSpec, live: LiveObject) -> ServerSpec:
    info = live.info
    target = live.setting("target_concurrency")
    return dataclasses.replace(
        spec,
        container=_live_container(spec.container, live, regions_key="compute_regions"),
        port=_int(info.get("port"), spec.port),
        startup_timeout=_int(info.get("startup_timeout"), spec.startup_timeout),
        exit_grace_period=_int(info.get("exit_grace_period"), spec.exit_grace_period),
        requires_proxy_auth=not info["unauthenticated"] if "unauthenticated" in info else spec.requires_proxy_auth,
        routing_region=info.get("routing_region") if "routing_region" in info else spec.routing_region,
        h2_enabled=bool(info["h2_enabled"]) if "h2_enabled" in info else spec.h2_enabled,
        # Modal reports no target (null) when it is unset *or* disabled: only a value is a reading.
        target_concurrency=_whole(target) if target is not None else spec.target_concurrency,
    )


def _live_function(spec: FunctionSpec, live: LiveObject) -> FunctionSpec:
    info = live.info
    retries = spec.retries
    if "max_retries" in info:
        count = info.get("max_retries") or 0
        if count == 0:
            retries = None
        elif retries is None:
            retries = RetrySpec(max_retries=count)
        else:
            retries = dataclasses.replace(retries, max_retries=count)
    concurrency = spec.concurrency
    if "concurrency_info" in info:
        found = info.get("concurrency_info")
        concurrency = ConcurrencySpec(found["max_inputs"], found.get("target_inputs")) if found else None
    batching = spec.batching
    if "batching_info" in info:
        found = info.get("batching_info")
        batching = BatchingSpec(found["max_batch_size"], found["wait_ms"]) if found else None
    web = spec.web
    web_info = info.get("web_info")
    if web is not None and isinstance(web_info, Mapping):
        web = dataclasses.replace(
            web,
            requires_proxy_auth=not web_info.get("unauthenticated", not web.requires_proxy_auth),
            method=web_info.get("method") or web.method,
        )
    return dataclasses.replace(
        spec,
        container=_live_container(spec.container, live, regions_key="regions"),
        timeout=_int(info.get("timeout"), spec.timeout) if "timeout" in info else spec.timeout,
        retries=retries,
        concurrency=concurrency,
        batching=batching,
        web=web,
        routing_region=info.get("routing_region") if "routing_region" in info else spec.routing_region,
    )


def _live_container(container: ContainerSpec, live: LiveObject, *, regions_key: str) -> ContainerSpec:
    info = live.info
    changes: dict[str, Any] = {}
    if "gpus" in info:
        changes["gpu"] = _same_gpus(container.gpu, _gpu_strings(info.get("gpus") or []))
    if "cpu" in info:
        cpu = info.get("cpu")
        changes["cpu"] = float(cpu[0] if isinstance(cpu, list) else cpu) if cpu is not None else None
    if "memory_mib" in info:
        memory = info.get("memory_mib")
        changes["memory"] = int(memory[0] if isinstance(memory, list) else memory) if memory is not None else None
    if "ephemeral_disk_mib" in info:
        changes["ephemeral_disk"] = info.get("ephemeral_disk_mib")
    if regions_key in info:
        changes["region"] = tuple(info.get(regions_key) or ())
    if "cloud" in info:
        changes["cloud"] = info.get("cloud") or None
    if "nonpreemptible" in info:
        changes["nonpreemptible"] = bool(info.get("nonpreemptible"))
    changes["scaling"] = _live_scaling(container.scaling, live)
    return dataclasses.replace(container, **changes)


def _live_scaling(scaling: ScalingSpec, live: LiveObject) -> ScalingSpec:
    # A setting at Modal's default and never overridden is reported as null: the default then.
    defaults = ScalingSpec()
    values = {}
    for name in ("min_containers", "max_containers", "buffer_containers", "scaledown_window", "scaleup_window"):
        value = live.setting(name)
        values[name] = getattr(defaults, name) if value is None else int(value)
    return ScalingSpec(**values)


def _gpu_strings(gpus: list[Any]) -> tuple[str, ...]:
    found = []
    for item in gpus:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            gpu_type, count = str(item[0]), int(item[1])
            found.append(gpu_type if count == 1 else f"{gpu_type}:{count}")
    return tuple(found)


def _same_gpus(planned: tuple[str, ...], live: tuple[str, ...]) -> tuple[str, ...]:
    """The planned spelling when Modal names the same GPUs another way ("A100" vs "A100-40GB")."""
    table = load_price_table()

    def canonical(request: str) -> tuple[str, int]:
        gpu_type, count = parse_gpu_request(request)
        return table.priced_as(gpu_type), count

    return planned if [canonical(g) for g in planned] == [canonical(g) for g in live] else live


def _int(value: Any, fallback: int) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else fallback


def _whole(value: Any) -> int | None:
    return int(value) if float(value).is_integer() else value


def _unplanned_container(live: LiveObject, regions_key: str) -> ContainerSpec:
    return _live_container(ContainerSpec(image=UNKNOWN_IMAGE), live, regions_key=regions_key)


def _unplanned_server(live: LiveObject) -> ServerSpec:
    return ServerSpec(
        key=live.name,
        symbol=live.name,
        name=live.name,
        engine="",  # no engine known (Modal does not report one); a diff lists such a server whole
        model=UNKNOWN_IMAGE,
        served_model_name=UNKNOWN_IMAGE,
        container=_unplanned_container(live, "compute_regions"),
        command=(),
    )


def _unplanned_function(live: LiveObject) -> FunctionSpec:
    return FunctionSpec(
        key=live.name,
        symbol=live.name,
        name=live.name,
        handler=UNKNOWN_IMAGE,
        container=_unplanned_container(live, "regions"),
        timeout=_int(live.info.get("timeout"), FunctionSpec.timeout),
    )
