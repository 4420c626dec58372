"""`mdeploy explain MANIFEST --env ENV KEY`: one value, and where it came from.

KEY is a dotted key of the merged manifest (`services.chat.scaling.max_containers`: the value
and the file:line:col that set it, overlay included) or of the Blueprint
(`servers.chat.container.scaling.scaledown_window`: the planned value, and whether a manifest
key, a `defaults` entry, an engine or the planner's defaults decided it, as the planner recorded
it). Values that came from a `${VAR}` are shown as that reference.
"""

from __future__ import annotations

import argparse

from engine.cli.common import (
    Subcommands,
    add_env_argument,
    add_manifest_argument,
    chosen_environment,
    manifest_path,
    note_missing_overlay,
)

NAME = "explain"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description=(
            "Show the value of a dotted key of the merged manifest (with the file:line that set "
            "it) or of the Blueprint (servers.KEY..., functions.KEY..., objects by their manifest "
            "key), and what decided it."
        ),
    )
    add_manifest_argument(parser)
    parser.add_argument("key", metavar="KEY", help="dotted key, e.g. services.chat.gpu or servers.chat.command")
    add_env_argument(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    import json

    from engine.errors import UserError
    from engine.manifest.validate import load_manifest
    from engine.plan.explain import UnknownKey, explain_key
    from engine.planner.plan import plan_app_with_origins

    if not args.key.strip(" .[]"):
        raise UserError(
            f"KEY {args.key!r} names nothing; give a dotted key, e.g. services.NAME.gpu or servers.NAME.command"
        )
    path = manifest_path(args)
    loaded = load_manifest(path, chosen_environment(args))
    note_missing_overlay(path, args.env)
    planned = plan_app_with_origins(loaded)
    blueprint = planned.blueprint
    try:
        explanation = explain_key(args.key, loaded.merged, blueprint, planned.origins, _schema_key_names())
    except UnknownKey as unknown:
        if unknown.close:
            raise UserError(
                f"{args.key!r} is not a key of the merged manifest or of the Blueprint of {args.manifest}: "
                f"did you mean '{unknown.close}'?"
            ) from None
        raise UserError(
            f"{args.key!r} is not a key of the merged manifest or of the Blueprint of {args.manifest} "
            f"(environment {blueprint.environment}); `mdeploy plan {args.manifest} --format json` "
            "lists the Blueprint's keys"
        ) from None

    def show(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    where = "manifest" if explanation.found_in == "manifest" else "Blueprint"
    print(f"{explanation.key} ({where}, environment {blueprint.environment}) = {show(explanation.value)}")
    origin = explanation.origin
    if explanation.location:
        origin += f" at {explanation.location}"
    print(f"  {origin}")
    if explanation.has_planned and explanation.planned != explanation.value:
        print(f"  planned as {show(explanation.planned)}")
    elif len(explanation.planned_at) > 1:
        print(f"  planned into {', '.join(explanation.planned_at)}")
    return 0


def _schema_key_names() -> set[str]:
    """Every key name a manifest may hold (each schema model's fields and aliases) and every
    Blueprint field name: a piece of KEY that is one of them is unset, not misspelled."""
    import dataclasses

    from engine.blueprint import model as blueprint_model
    from engine.manifest.models.base import StrictModel

    names: set[str] = set()
    models: list[type] = [StrictModel]
    while models:
        cls = models.pop()
        models.extend(cls.__subclasses__())
        for name, field in getattr(cls, "model_fields", {}).items():
            names.update(n for n in (name, field.alias) if n)
    for value in vars(blueprint_model).values():
        if dataclasses.is_dataclass(value) and isinstance(value, type):
            names.update(field.name for field in dataclasses.fields(value))
    return names
