"""`mdeploy preflight MANIFEST --env ENV [--strict]`: check a deploy against the world first.

Secrets exist with their required keys, volumes exist (or will be created), the model and revision
are on the Hub (or its `path:` folder, when on this machine, has a config.json) and fit the GPUs,
and each hub model's cache volume already holds its pinned revision (engine/preflight/cache_checks.py:
advisory, a warning when not). Without Modal credentials or network the checks that need them
are skipped, each with its reason.
Exit codes: 0 nothing failed, 1 a check failed, 3 only with --strict: something was skipped (see
engine/preflight/report.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from engine.cli.common import Subcommands, add_env_argument, add_manifest_argument, manifest_path, plan_manifest

if TYPE_CHECKING:
    from engine.preflight.probes import Unavailable

NAME = "preflight"
_Probe = TypeVar("_Probe")


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description=(
            "Check what only the world can answer before deploying: Modal secrets and volumes in the "
            "environment, the model and revision on the Hugging Face Hub, whether the weights and "
            "KV cache fit the GPUs, and whether each cache volume already holds the pinned revision "
            "(else the first cold start downloads it). Exit 0: nothing failed; 1: a check failed; 3: "
            "--strict and a check was skipped."
        ),
    )
    add_manifest_argument(parser)
    add_env_argument(parser)
    parser.add_argument(
        "--strict", action="store_true", help="exit 3 when a check was skipped (no credentials or network)"
    )
    return parser


def run(args: argparse.Namespace) -> int:
    from engine.preflight.checks import run_checks
    from engine.preflight.model_folder import ModelFolders
    from engine.preflight.probes import LiveHub, LiveModal, Unavailable
    from engine.preflight.report import exit_code, render_results

    blueprint = plan_manifest(args)
    modal = _probe(LiveModal) if blueprint.secrets or blueprint.volumes else Unavailable("not needed")
    # The Hub answers for each llm server's model and each `models:` entry from the Hub.
    asks_hub = any(s.kind != "server" for s in blueprint.servers) or any(m.repo for m in blueprint.models)
    hub = _probe(LiveHub) if asks_hub else Unavailable("not needed")
    # A relative model path is a folder below the project root, where `mdeploy serve` runs engines.
    from engine.project.root import project_root

    results = run_checks(blueprint, modal, hub, ModelFolders(project_root(manifest_path(args))))
    print(render_results(results, app=blueprint.app, environment=blueprint.environment))
    return exit_code(results, strict=args.strict)


def _probe(factory: Callable[[], _Probe]) -> _Probe | Unavailable:
    """The live probe, or why it cannot answer (no credentials, no network): the checks that need it
    are then skipped with that reason."""
    from engine.preflight.probes import Unavailable

    try:
        return factory()
    except Unavailable as exc:
        return exc
