"""A server's engine facts, decided once: the ServerSpec fields its launch command is derived from.

Each serving setting (context length, batch size, memory share, dtype, quantization, KV-cache
dtype) takes the manifest's `engine_args` key the engine has for it, else the value the engine
reads from a flag in `extra_args` (engines without a key for it), else the engine's own default,
named in `engine_defaults` so the command leaves it to the engine. Every field's origin is
recorded here, by the lines that choose it.
"""

from __future__ import annotations

from typing import Any

from engine.engines.common import LISTEN_HOST, SERVING_SETTINGS, Engine, extra_arg_setting, format_value
from engine.manifest.models.llm import LlmService, ModelSource, model_split
from engine.manifest.models.shorthands import gpu_count
from engine.planner.context import PlanContext
from engine.planner.models import model_keys_at

# How a setting given as extra_args text becomes its field's value.
_SETTING_TYPES = {"context_length": int, "max_sequences": int, "memory_utilization": float}


def parallel_sizes(service: LlmService) -> tuple[int, int]:
    """(tensor, pipeline) parallel sizes: the manifest's (validated to split the model across the
    GPU count x nodes), the rest derived as `model_split` says; (1, 1) without a GPU."""
    if not service.gpu:
        return 1, 1
    tp = getattr(service.engine_args, "tensor_parallel_size", None)
    pp = getattr(service.engine_args, "pipeline_parallel_size", None)
    nodes = getattr(service, "nodes", 1)
    split = model_split(gpu_count(service.gpu[0]), nodes, tp, pp)
    assert split is not None, "validated by the manifest model"
    return split


def tensor_parallel_size(service: LlmService) -> int:
    """The manifest's value when set (validated), else what the GPU count x nodes leaves it."""
    return parallel_sizes(service)[0]


def engine_fields(
    ctx: PlanContext, key: str, svc: LlmService, model_source: ModelSource, engine: Engine
) -> dict[str, Any]:
    """ServerSpec fields (besides model, served_model_name and port) for service `key`, whose
    model is `model_source` (the inline form of a `models` key: planner/models.py's service_model)."""
    path, at, rec = ("services", key), ("servers", key), ctx.origins
    args = svc.engine_args
    extra = tuple(args.extra_args)
    fields: dict[str, Any] = {}

    fields["revision"] = rec.pick((*at, "revision"), (model_source.revision, (*model_keys_at(ctx, key), "revision")))
    fields["host"] = LISTEN_HOST
    rec.engine((*at, "host"), engine.name, note="listens on every interface, where Modal's proxy reaches it")
    explicit_tp = getattr(args, "tensor_parallel_size", None)
    fields["tensor_parallel_size"] = tensor_parallel_size(svc)
    if explicit_tp is not None:
        rec.manifest((*at, "tensor_parallel_size"), (*path, "engine_args", "tensor_parallel_size"))
    else:
        rec.planner((*at, "tensor_parallel_size"), None, [(*path, "gpu")], note="one model split across every GPU")
    explicit_pp = getattr(args, "pipeline_parallel_size", None)
    fields["pipeline_parallel_size"] = parallel_sizes(svc)[1]
    if explicit_pp is not None:
        rec.manifest((*at, "pipeline_parallel_size"), (*path, "engine_args", "pipeline_parallel_size"))
    else:
        rec.planner(
            (*at, "pipeline_parallel_size"),
            None,
            [(*path, "nodes"), (*path, "gpu")],
            note="one pipeline stage per node",
        )

    defaults = []
    # The engine's defaults where it runs first: Modal tries a fallback list in order.
    gpus = tuple(svc.gpu or ())
    first_gpu = str(gpus[0]).split(":")[0] if gpus else None
    engine_defaults = engine.default_settings(first_gpu)
    for name in SERVING_SETTINGS:
        option = engine.setting_keys.get(name)
        given = getattr(args, option, None) if option else None
        found = extra_arg_setting(engine, name, extra)
        if given is not None and option:
            fields[name] = given
            rec.manifest((*at, name), (*path, "engine_args", option))
        elif found is not None:
            index, text = found
            try:
                fields[name] = _SETTING_TYPES.get(name, str)(text)
            except ValueError:
                kind = "a whole number" if _SETTING_TYPES[name] is int else "a number"
                ctx.report(
                    (*path, "engine_args", "extra_args", index),
                    f"{engine.name} reads its {name} from this argument, and {text!r} is not {kind}",
                    f"give {kind} here",
                )
                continue
            rec.manifest((*at, name), (*path, "engine_args", "extra_args", index))
        else:
            fields[name] = engine_defaults[name]
            defaults.append(name)
            on = f" on {first_gpu}" if first_gpu and engine.gpu_setting_defaults else ""
            rec.engine((*at, name), engine.name, note=f"{engine.name}'s own default{on}")
    fields["engine_defaults"] = tuple(defaults)
    rec.engine(
        (*at, "engine_defaults"),
        engine.name,
        [(*path, "engine_args")],
        note="the settings no manifest key or extra argument sets",
    )

    fields["fast_boot"] = svc.fast_boot and engine.supports_fast_boot
    if engine.supports_fast_boot:
        rec.manifest((*at, "fast_boot"), (*path, "fast_boot"))
    else:
        rec.engine((*at, "fast_boot"), engine.name, note=f"{engine.name} has no fast-boot mode")

    typed = {engine.setting_keys[name] for name in SERVING_SETTINGS if name in engine.setting_keys}
    options = args.model_dump(
        exclude={"extra_args", "tensor_parallel_size", "pipeline_parallel_size", *typed}, exclude_none=True
    )
    fields["engine_options"] = {name: format_value(value) for name, value in options.items()}
    rec.manifest((*at, "engine_options"), (*path, "engine_args"), parts=True)
    for name in options:
        rec.manifest((*at, "engine_options", name), (*path, "engine_args", name))
    fields["extra_args"] = extra
    rec.each((*at, "extra_args"), (*path, "engine_args", "extra_args"), len(extra))
    fields["needs_gpu"] = engine.needs_gpu
    rec.engine((*at, "needs_gpu"), engine.name)
    return fields


def served_names(ctx: PlanContext, key: str, engine: Engine, model: str, served_name: str) -> tuple[str, ...]:
    names = engine.served_names(model, served_name)
    model_at = model_keys_at(ctx, key)
    ctx.origins.engine(
        ("servers", key, "served_names"),
        engine.name,
        [(*model_at, "id"), (*model_at, "path"), (*model_at, "served_name")],
    )
    return names
