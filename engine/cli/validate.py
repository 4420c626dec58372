"""`mdeploy validate PATH... [--env ENV | --all-envs]`: check manifests and their overlays.

PATHs are manifest files or folders (every base manifest in them; overlays are found beside their
base). An overlay file named as a PATH (`chat.prod.yaml`) checks its base in that environment. Environments: `--env ENV` checks each manifest merged with its ENV overlay; `--all-envs`
checks the base alone and then with each overlay found; neither checks MODAL_ENVIRONMENT's
overlay if that is set, else the base alone. Each check is the planner's (`load_and_plan`): the
manifest, the rules an engine adds, and the project's files (handler modules, read, never run).
One line per manifest and environment checked, then every problem of every check; exit 0 only if
all are valid. Never imports modal.
"""

from __future__ import annotations

import argparse

NAME = "validate"


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        help="check manifests and their overlays; report every problem",
        description="Check manifests (files or folders) and their environment overlays; report every problem with its position.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="manifest files or folders of manifests")
    envs = parser.add_mutually_exclusive_group()
    envs.add_argument("--env", help="check with this environment's overlay (default: MODAL_ENVIRONMENT, else the base alone)")
    envs.add_argument("--all-envs", action="store_true", help="check the base and every overlay found")
    return parser


def _count(number: int, noun: str) -> str:
    if number == 1:
        return f"1 {noun}"
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number} {plural}"


def summarize(manifest) -> str:
    """`1 service, 2 functions, 1 volume, 1 secret` (empty kinds left out, but always services
    and functions)."""
    parts = [_count(len(manifest.services), "service"), _count(len(manifest.functions), "function")]
    for attr, noun in (("images", "image"), ("volumes", "volume"), ("secrets", "secret"), ("dicts", "dict"), ("queues", "queue"), ("buckets", "bucket")):
        number = len(getattr(manifest, attr))
        if number:
            parts.append(_count(number, noun))
    return ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.errors import UserError
    from engine.manifest.errors import ManifestError, Problem
    from engine.manifest.load import discover_manifests, display_path, environments_of, overlay_target, resolve_environment
    from engine.blueprint.planner import load_and_plan

    # An overlay named on the command line means "its base, in that environment": an overlay
    # alone is not a manifest.
    checks: list[tuple[Path, str | None]] = []
    other_paths = []
    for given in args.paths:
        target = overlay_target(given) if Path(given).is_file() else None
        if target:
            checks.append(target)
        else:
            other_paths.append(Path(given))
    found: list[Path] = []
    for given in other_paths:
        in_path = discover_manifests([given])
        if not in_path:
            # A folder with nothing to check would otherwise pass silently (a green CI run).
            raise UserError(f"{display_path(given)}: no manifests in this folder (files ending .yaml, .yml or .toml)")
        found.extend(in_path)
    for path in dict.fromkeys(found):
        if args.all_envs:
            checks.extend((path, env) for env in [None, *environments_of(path)])
        else:
            checks.append((path, resolve_environment(args.env)))
    problems: list[Problem] = []
    for path, env in dict.fromkeys(checks):
        label = f"{path.as_posix()} [{env or 'base'}]"
        try:
            loaded, _ = load_and_plan(path, env)
        except ManifestError as exc:
            count = len(exc.problems)
            print(f"FAIL {label}: {count} problem{'s' if count != 1 else ''}")
            problems.extend(p for p in exc.problems if p not in problems)
            continue
        print(f"ok {label}: {summarize(loaded.manifest)}")
    if problems:
        raise ManifestError(problems)
    return 0
