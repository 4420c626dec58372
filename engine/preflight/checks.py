"""The preflight checks: what can only be checked against the world, before a deploy.

Each check gives one `CheckResult`. Probes come in as arguments (a probe, or the `Unavailable`
that says why there is none), so this module does no I/O and tests drive it with fakes; model
folders are read through `ModelFolders`, which tests point at a temporary directory. The
`models:` entries' checks are model_checks.py's; whether each cache volume already holds its
model's pinned revision, cache_checks.py's (after them: they reuse the sizes the Hub gave).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from engine.blueprint.model import Blueprint, SecretSpec, ServerSpec, VolumeSpec
from engine.preflight.cache_checks import cache_checks
from engine.preflight.fit import (
    GIB,
    FitReport,
    UnknownSizeError,
    bytes_per_parameter,
    check_fit,
    dtype_bytes,
    gpu_memory_bytes,
)
from engine.preflight.model_checks import model_checks
from engine.preflight.model_config import ModelConfigError, checkpoint_dtype, shape_from_config
from engine.preflight.model_folder import ModelFolderError, ModelFolders
from engine.preflight.probes import HubProbe, ModalProbe, NotOnHub, Unavailable

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"


@dataclass(frozen=True)
class CheckResult:
    check: str  # "secret hf", "volume hf-cache", "model chat", "fit chat"
    status: str  # pass | warn | fail | skip
    message: str


def run_checks(
    blueprint: Blueprint,
    modal: ModalProbe | Unavailable,
    hub: HubProbe | Unavailable,
    folders: ModelFolders | None = None,
) -> list[CheckResult]:
    """`folders` resolves a model `path:` (default: from the current directory; the CLI passes the project root, where `serve` runs engines)."""
    folders = folders or ModelFolders(Path.cwd())
    results = list(_secret_checks(blueprint, modal))
    results += _volume_checks(blueprint, modal)
    # A `kind: server` names no model mdeploy could look up: its command is its own business.
    for server in (s for s in blueprint.servers if s.kind != "server"):
        results.append(_guarded(f"model {server.key}", partial(_model_check, server, hub, folders)))
        results.append(_guarded(f"fit {server.key}", partial(_fit_check, server, hub, folders)))
    sizes: dict[str, int | None] = {}
    results += model_checks(blueprint, hub, _guarded, sizes)
    results += cache_checks(blueprint, modal, hub, sizes, _guarded)
    return results


def _guarded(check: str, body: Callable[[], tuple[str, str]]) -> CheckResult:
    """Run one check; a probe that gives up midway turns it into a skip with the probe's reason."""
    try:
        status, message = body()
    except Unavailable as exc:
        return CheckResult(check, SKIP, exc.reason)
    return CheckResult(check, status, message)


# ---------------------------------------------------------------------------------------------
# Modal


def _secret_checks(blueprint: Blueprint, modal: ModalProbe | Unavailable) -> Iterator[CheckResult]:
    for secret in blueprint.secrets:
        check = f"secret {secret.key}"
        if isinstance(modal, Unavailable):
            yield CheckResult(check, SKIP, modal.reason)
            continue

        def body(secret: SecretSpec = secret) -> tuple[str, str]:
            problem = modal.secret_problem(secret.name, blueprint.environment, secret.required_keys)
            keys = f" with keys {', '.join(secret.required_keys)}" if secret.required_keys else ""
            if problem:
                return FAIL, f"{secret.name!r} in environment {blueprint.environment!r}: {problem}"
            return PASS, f"{secret.name!r} exists in environment {blueprint.environment!r}{keys}"

        yield _guarded(check, body)


def _volume_checks(blueprint: Blueprint, modal: ModalProbe | Unavailable) -> Iterator[CheckResult]:
    for volume in blueprint.volumes:
        check = f"volume {volume.key}"
        if isinstance(modal, Unavailable):
            yield CheckResult(check, SKIP, modal.reason)
            continue

        def body(volume: VolumeSpec = volume) -> tuple[str, str]:
            where = f"{volume.name!r} in environment {blueprint.environment!r}"
            if modal.volume_exists(volume.name, blueprint.environment):
                return PASS, f"{where} exists"
            if volume.create_if_missing:
                return PASS, f"{where} does not exist yet; the deploy creates it (create_if_missing)"
            return (
                FAIL,
                f"{where} does not exist and the manifest does not create it (create with `modal volume create {volume.name}`)",
            )

        yield _guarded(check, body)


# ---------------------------------------------------------------------------------------------
# The model (on the Hub, or a folder on this machine), and whether it fits


def _hub_model(server: ServerSpec) -> tuple[str, str | None] | None:
    """(model id, revision) when the server loads from the Hub; None for a path on a volume."""
    if server.model.startswith(("/", ".")):
        return None
    return server.model, server.revision


def _not_here(server: ServerSpec) -> str:
    return (
        f"model path {server.model} is not on this machine (it lives in a Modal volume): its config cannot be read here"
    )


def _model_check(server: ServerSpec, hub: HubProbe | Unavailable, folders: ModelFolders) -> tuple[str, str]:
    model = _hub_model(server)
    if model is None:
        folder = folders.find(server.model)
        if folder is None:
            return SKIP, _not_here(server)
        try:
            folders.config(folder)
        except ModelFolderError as exc:
            return FAIL, str(exc)
        return PASS, f"{server.model} is a model folder with a config.json"
    if isinstance(hub, Unavailable):
        raise hub
    model_id, revision = model
    try:
        hub.check_revision(model_id, revision)
    except NotOnHub as exc:
        return FAIL, str(exc)
    return PASS, f"{model_id} exists at revision {revision or 'main (not pinned)'}"


def _fit_check(server: ServerSpec, hub: HubProbe | Unavailable, folders: ModelFolders) -> tuple[str, str]:
    if not server.container.gpu:
        return SKIP, "no GPU requested"
    model = _hub_model(server)
    if model is None:
        return _folder_fit(server, folders)
    if isinstance(hub, Unavailable):
        raise hub
    try:
        config = hub.config(*model)
    except NotOnHub as exc:
        return SKIP, f"no model config: {exc}"
    return fit_verdict(server, config, hub.parameter_count(*model))


def _folder_fit(server: ServerSpec, folders: ModelFolders) -> tuple[str, str]:
    folder = folders.find(server.model)
    if folder is None:
        return SKIP, _not_here(server)
    try:
        config = folders.config(folder)
        parameters = folders.parameter_count(folder)
    except ModelFolderError as exc:
        return SKIP, f"no model config: {exc}"
    return fit_verdict(server, config, parameters)


def fit_verdict(server: ServerSpec, config: dict[str, Any], parameters: int | None) -> tuple[str, str]:
    """(status, message) for a server's GPUs given the model's config.json and parameter count."""
    try:
        shape = shape_from_config(config, parameters)
    except ModelConfigError as exc:
        return SKIP, str(exc)
    context = server.context_length or shape.max_context
    if context is None:
        return SKIP, "no context length configured and none in the model config"
    if shape.max_context and context > shape.max_context:
        return FAIL, f"context {context} exceeds the model's maximum of {shape.max_context} tokens"

    # The server's settings, the engine's own defaults among them (ServerSpec.engine_defaults).
    dtype = checkpoint_dtype(config) if server.dtype == "auto" else server.dtype
    quantization = server.quantization or _checkpoint_quantization(config)
    try:
        weight_width = bytes_per_parameter(dtype, quantization)
        kv_width = dtype_bytes(dtype if server.kv_cache_dtype == "auto" else server.kv_cache_dtype)
        gpus = [gpu_memory_bytes(gpu) for gpu in server.container.gpu]
    except UnknownSizeError as exc:
        return SKIP, str(exc)

    # A fallback list is only as good as its smallest option: judge each, report the worst.
    verdicts = []
    for kind, count, total in gpus:
        report = check_fit(
            shape,
            weight_bytes_per_param=weight_width,
            kv_element_bytes=kv_width,
            context=context,
            sequences=server.max_sequences,
            gpu_bytes=total,
            memory_fraction=server.memory_utilization,
        )
        verdicts.append(_describe(report, f"{kind}:{count}", server.memory_utilization, shape.parameters_estimated))
    order = {FAIL: 0, WARN: 1, PASS: 2}
    return min(verdicts, key=lambda v: order[v[0]])


def _checkpoint_quantization(config: dict[str, Any]) -> str | None:
    quantization = config.get("quantization_config")
    return quantization.get("quant_method") if isinstance(quantization, dict) else None


def _describe(report: FitReport, gpu: str, fraction: float, estimated: bool) -> tuple[str, str]:
    weights = f"weights {_gib(report.weights_bytes)}{' (estimated from the config)' if estimated else ''}"
    per_sequence = f"KV cache {_gib(report.kv_bytes_per_sequence)} per {report.context}-token sequence"
    budget = f"{_gib(report.budget_bytes)} usable on {gpu} at {fraction:g}"
    if not report.starts:
        return (
            FAIL,
            f"{weights} + {per_sequence} exceed {budget}: the server cannot start (more GPUs, a larger GPU, quantization or a shorter context)",
        )
    if not report.fits_all_sequences:
        return WARN, (
            f"{weights}, {per_sequence}; {budget} holds {report.sequences_that_fit} of "
            f"{report.sequences} concurrent full-context sequences"
        )
    return PASS, f"{weights} + {per_sequence} x {report.sequences} fit in {budget}"


def _gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"
