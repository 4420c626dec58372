"""What `mdeploy deploy` does around Modal's deploy: the default tag, the strategy, and after a
successful deploy the smoke check and, with `--rollback-on-failure`, the rollback.

Kept apart from deploy.py so that the deploy command itself stays the plan and one `modal
deploy`. Top-level imports are argparse only.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from engine.blueprint.model import Blueprint
    from engine.blueprint.origins import Origins
    from engine.operate.names import ModalNames


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    add_strategy_argument(
        parser, "how Modal replaces running containers (modal deploy --strategy; Modal's default: rolling)"
    )
    # Exclusive: the rollback answers a failed smoke check, so with --no-smoke it could never run.
    checks = parser.add_mutually_exclusive_group()
    checks.add_argument(
        "--no-smoke",
        action="store_true",
        help="skip the smoke check of every LLM service and web endpoint after the deploy",
    )
    checks.add_argument(
        "--rollback-on-failure",
        action="store_true",
        help="when the smoke check fails, roll back to the previous version (modal app rollback)",
    )


def add_strategy_argument(parser: argparse.ArgumentParser, help: str) -> None:
    from engine.operate.lifecycle import STRATEGIES

    parser.add_argument("--strategy", choices=STRATEGIES, help=help)


def deploy_tag(blueprint: Blueprint, manifest: Path) -> str:
    from engine.operate.tagging import default_tag

    return str(default_tag(blueprint, manifest))


def _names(blueprint: Blueprint, env: str | None) -> ModalNames:
    from engine.operate.names import modal_names

    return modal_names(blueprint, env)


def show_checks(args: argparse.Namespace, blueprint: Blueprint, env: str | None, origins: Origins) -> None:
    """For --dry-run: what would be checked and called after the deploy (names from variables
    shown as their references, as the plan shows them)."""
    if args.no_smoke:
        return
    from engine.cli.operate_common import print_calls
    from engine.operate.lifecycle import rollback_call
    from engine.operate.names import shown_names
    from engine.operate.smoke import planned_requests
    from engine.operate.smoke_targets import url_calls

    names = shown_names(_names(blueprint, env), origins)
    if not names.http_objects:
        print("then: no smoke check (no LLM service or web endpoint)")
        return
    print_calls(url_calls(names), "then, for the URLs to smoke-check:")
    for obj in names.http_objects:
        auth = " with Modal proxy auth" if obj.requires_proxy_auth else ""
        print(f"  smoke {obj.label}: {', '.join(planned_requests(obj))}{auth}")
    if args.rollback_on_failure:
        print_calls([rollback_call(names, None, args.strategy)], "and if a check fails:")


def after_deploy(args: argparse.Namespace, blueprint: Blueprint, env: str | None) -> int:
    """Smoke-check the new deployment; 0 when everything answered, else an error (rolled back
    first with --rollback-on-failure)."""
    if args.no_smoke:
        return 0
    import os

    from engine.errors import UserError
    from engine.operate import modal_cli
    from engine.operate.lifecycle import rollback_call
    from engine.operate.smoke import check_all
    from engine.operate.smoke_targets import resolve_targets

    names = _names(blueprint, env)
    if not names.http_objects:
        print("smoke: nothing to check (no LLM service or web endpoint)")
        return 0
    print(f"\nsmoke: checking {len(names.http_objects)} object(s) through Modal", flush=True)
    targets = resolve_targets(blueprint, names)
    results = check_all([(t.obj, t.url, t.startup_timeout) for t in targets], os.environ)
    for target, result in zip(targets, results):
        line = result.describe() if not target.problem else f"{target.obj.label}: FAILED: {target.problem}"
        print(f"smoke: {line}", flush=True)
    failed = sum(1 for r in results if not r.ok)
    if not failed:
        print(f"smoke: all {len(results)} passed")
        return 0
    summary = f"smoke check failed for {failed} of {len(results)}"
    if not args.rollback_on_failure:
        raise UserError(f"{summary}; the new version stays deployed (--rollback-on-failure rolls back)")
    rollback = rollback_call(names, None, args.strategy)
    print(f"smoke: {summary}; rolling back to the previous version\nrunning: {rollback.shown}", flush=True)
    modal_cli.stream(rollback)
    raise UserError(f"{summary}; rolled back to the previous version")
