"""`mdeploy validate PATH... [--env ENV | --all-envs] [--strict]`: check manifests and their overlays.

PATHs are manifest files or folders (every base manifest in them; overlays are found beside their
base). An overlay file named as a PATH (`chat.prod.yaml`) checks its base in that environment.
Environments: `--env ENV` checks each manifest merged with its ENV overlay; `--all-envs` checks
the base alone and then with each overlay found; neither checks MODAL_ENVIRONMENT's overlay if
that is set, else the base alone. Each check is the planner's: the manifest, the rules an engine
adds, and the project's files (handler modules, read, never run).

Every file and environment is checked, whatever an earlier one did: a file that cannot be read,
or has two overlays for one environment, is a problem of that file. Output (stdout), per manifest
and environment: one `ok`/`FAIL` line, then its problems not already shown above it, each
`file:line:col: key: [warning:] message (hint)`; last, one summary line. Exit 1 when a check has
an error (with `--strict`, a warning too), else 0.

A manifest that plans is then built into Modal objects as the deploy builds them (offline: no
token, no network), so Modal's own client-side checks run too (engine/modal_backend/
modal_problems.py). modal is imported once per process, the first time a manifest plans; a run
of many checks imports it up front and spreads the checks over forked worker processes, printed
in order as one process prints them (validate_pool.py; MDEPLOY_VALIDATE_WORKERS).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from engine.cli.common import Subcommands, overlay_hint

if TYPE_CHECKING:
    from pathlib import Path

    from engine.manifest.errors import Problem
    from engine.manifest.models.manifest import Manifest

NAME = "validate"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description="Check manifests (files or folders) and their environment overlays; report every problem with its position.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders of manifests")
    envs = parser.add_mutually_exclusive_group()
    envs.add_argument(
        "--env", help="check with this environment's overlay (default: MODAL_ENVIRONMENT, else the base alone)"
    )
    envs.add_argument("--all-envs", action="store_true", help="check the base and every overlay found")
    parser.add_argument("--strict", action="store_true", help="treat warnings (and an --env no overlay has) as errors")
    return parser


def _count(number: int, noun: str) -> str:
    if number == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {plural}"


def summarize(manifest: Manifest) -> str:
    """`1 service, 2 functions, 1 volume, 1 secret` (empty kinds left out, but always services
    and functions)."""
    parts = [_count(len(manifest.services), "service"), _count(len(manifest.functions), "function")]
    for attr, noun in (
        ("images", "image"),
        ("volumes", "volume"),
        ("secrets", "secret"),
        ("dicts", "dict"),
        ("queues", "queue"),
        ("buckets", "bucket"),
    ):
        number = len(getattr(manifest, attr))
        if number:
            parts.append(_count(number, noun))
    return ", ".join(parts)


def _checks(args: argparse.Namespace) -> list[tuple[Path, str | None]]:
    """(manifest, environment) pairs to check, in order; bad PATHs are a UserError up front."""
    from pathlib import Path

    from engine.errors import UserError
    from engine.manifest.load import (
        discover_manifests,
        display_path,
        environments_of,
        overlay_target,
        resolve_environment,
    )

    # An overlay named on the command line means "its base, in that environment": an overlay
    # alone is not a manifest.
    checks: list[tuple[Path, str | None]] = []
    found: list[Path] = []
    for given in args.paths:
        target = overlay_target(given) if Path(given).is_file() else None
        if target:
            checks.append(target)
            continue
        in_path = discover_manifests([Path(given)])
        if not in_path:
            # A folder with nothing to check would otherwise pass silently (a green CI run).
            raise UserError(f"{display_path(given)}: no manifests in this folder (files ending .yaml, .yml or .toml)")
        found.extend(in_path)
    for path in dict.fromkeys(found):
        if args.all_envs:
            checks.extend((path, env) for env in [None, *environments_of(path)])
        else:
            checks.append((path, resolve_environment(args.env)))
    return list(dict.fromkeys(checks))


def _check(path: Path, env: str | None) -> tuple[Manifest | None, list[Problem]]:
    """(manifest or None, every problem) of one manifest in one environment."""
    from engine.manifest.errors import ManifestError
    from engine.manifest.load import FileProblem, load_merged
    from engine.manifest.validate import LoadedManifest, collect_problems
    from engine.planner.plan import plan_loaded

    try:
        merged = load_merged(path, env)
    except ManifestError as exc:
        return None, list(exc.problems)
    except FileProblem as exc:
        return None, [exc.problem()]
    manifest, problems = collect_problems(merged)
    if manifest is None:
        return None, problems
    # A valid manifest is planned too: an engine's rules and the project's files (handler
    # modules) only show there, and validate must refuse what plan and deploy would.
    warnings = tuple(p for p in problems if not p.is_error)
    loaded = LoadedManifest(
        manifest=manifest, merged=merged, environment=env, source=path.as_posix(), warnings=warnings
    )
    try:
        planned = plan_loaded(loaded)
    except ManifestError as exc:
        return None, [*problems, *exc.problems]
    # A plan that passed our rules is built as the deploy builds it, offline: what Modal's own
    # client refuses or warns about is a problem at the manifest key behind the value.
    from engine.modal_backend.modal_problems import modal_problems

    return manifest, [*problems, *planned.warnings, *modal_problems(loaded, planned)]


def _outcome(path: Path, env: str | None) -> tuple[str | None, list[Problem]]:
    """What run prints of one check: the summary of a manifest that passed, and every problem
    (in a worker process, this is what travels back: validate_pool.py)."""
    manifest, problems = _check(path, env)
    return (summarize(manifest) if manifest is not None else None), problems


def _prepare() -> None:
    """Import what every check needs, once, before worker processes fork."""
    import engine.manifest.validate  # noqa: F401
    import engine.modal_backend.modal_problems  # noqa: F401
    import engine.planner.plan  # noqa: F401


def _environment_note(args: argparse.Namespace, checks: list[tuple[Path, str | None]]) -> str | None:
    """When `--env ENV` matches no overlay of any manifest checked: say so, with did-you-mean."""
    from engine.manifest.load import environments_of
    from engine.planner.defaults import DEFAULT_ENVIRONMENT

    if args.env in (None, DEFAULT_ENVIRONMENT):  # main with no main overlay: each base is main's
        return None
    if any(env == args.env and env in environments_of(path) for path, env in checks):
        return None
    hint = overlay_hint(args.env, [path for path, _ in checks])
    return f"no manifest checked has an overlay for environment {args.env!r}{hint}; each was checked as its base alone"


def run(args: argparse.Namespace) -> int:
    from engine.manifest.load import check_environment_name
    from engine.manifest.models.secrets_scan import redact

    if args.env:
        check_environment_name(args.env)
    checks = _checks(args)
    note = _environment_note(args, checks)
    warnings = 0
    if note:
        print(f"{'error' if args.strict else 'note'}: {note}")
        warnings += 1
    shown: set[Problem] = set()
    ok = failed = 0
    from engine.cli.validate_pool import outcomes

    for (path, env), (summary, problems) in zip(checks, outcomes(checks, _outcome, _prepare)):
        problems = sorted(dict.fromkeys(problems), key=lambda p: p.sort_key())
        errors = [p for p in problems if p.is_error]
        warned = [p for p in problems if not p.is_error]
        fresh = [p for p in problems if p not in shown]
        warnings += sum(1 for p in warned if p in fresh)
        shown.update(fresh)
        label = f"{path.as_posix()} [{env or 'base'}]"
        above = f" ({len(problems) - len(fresh)} shown above)" if len(fresh) < len(problems) else ""
        if errors or (warned and args.strict):
            failed += 1
            counts = [_count(len(errors), "problem")] if errors else []
            counts += [_count(len(warned), "warning") + ("" if errors else " (--strict)")] if warned else []
            print(f"FAIL {label}: {', '.join(counts)}{above}")
        else:
            ok += 1
            extra = f"; {_count(len(warned), 'warning')}{above}" if warned else ""
            print(f"ok {label}: {summary}{extra}")
        for problem in fresh:
            # A rule may quote the value it rejects; a token there must never reach a CI log.
            print(redact(problem.format()))
    manifests = len({path for path, _ in checks})
    print(
        f"{_count(manifests, 'manifest')}, {_count(len(checks), 'environment')}: "
        f"{ok} ok, {failed} failed, {_count(warnings, 'warning')}"
    )
    return 1 if failed or (note and args.strict) else 0
