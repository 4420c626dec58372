"""`mdeploy deploy MANIFEST --env ENV [--tag TAG] [--strategy S] [--rollback-on-failure] [--dry-run]`:
validate, show the plan, deploy, then smoke-check what was deployed.

Deploying is Modal's own `modal deploy` on the generic entry module, with the manifest named in
MDEPLOY_MANIFEST (an absolute path, so the command works from any directory):

    MDEPLOY_MANIFEST=/abs/manifests/chat.yaml python -m modal deploy .../engine/entry.py --env prod

Its output streams through and its exit status is ours. Credentials are checked first, offline,
the way modal/config.py finds them (MODAL_TOKEN_ID / MODAL_TOKEN_SECRET, else the active profile
of MODAL_CONFIG_PATH or ~/.modal.toml), so a missing token is one clear line rather than a
traceback from the middle of a deploy. `--dry-run` prints the plan and the exact command, and
needs no credentials.

After a successful deploy (see deploy_checks.py): every LLM service and web endpoint is
smoke-checked through Modal's URL for it, and `--rollback-on-failure` runs `modal app rollback`
when a check fails. Without `--tag` the deploy is tagged `<git commit>-<content hash>`
(engine/operate/tagging.py), which `mdeploy history` decodes.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from engine.cli.common import (
    Subcommands,
    add_env_argument,
    add_manifest_argument,
    chosen_environment,
    manifest_path,
    plan_manifest_with_origins,
)

NAME = "deploy"


def register(subparsers: Subcommands) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        NAME,
        description=(
            "Validate and plan a manifest, print the plan, then run `modal deploy` on mdeploy's "
            "entry module with MDEPLOY_MANIFEST set. Modal's output streams through."
        ),
    )
    add_manifest_argument(parser)
    add_env_argument(parser, help="Modal environment (default: MODAL_ENVIRONMENT, else Modal's own default)")
    parser.add_argument(
        "--tag",
        help=(
            "tag the deployment with a version (modal deploy --tag): up to 50 letters, digits, '.', '_' "
            "and '-'; default: <git commit>-<content hash>"
        ),
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan and the command that would run; needs no Modal credentials",
    )
    from engine.cli.deploy_checks import add_check_arguments

    add_check_arguments(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    import os
    import shlex
    import subprocess
    import sys

    from engine.errors import UserError

    if args.tag is not None:
        from engine.operate.tagging import tag_problem

        wrong = tag_problem(args.tag)
        if wrong:
            raise UserError(wrong)
    if not args.dry_run:
        problem = missing_credentials(os.environ)
        if problem:
            raise UserError(problem)

    from engine.plan.render_plan import render_plan

    manifest = manifest_path(args)
    env = chosen_environment(args)
    planned = plan_manifest_with_origins(args)
    blueprint = planned.blueprint
    sys.stdout.write(render_plan(blueprint, "text", origins=planned.origins))
    sys.stdout.flush()

    from engine.cli.deploy_checks import after_deploy, deploy_tag, show_checks

    command = deploy_command(env, args.tag if args.tag is not None else deploy_tag(blueprint, manifest), args.strategy)
    manifest_env = {"MDEPLOY_MANIFEST": str(manifest.resolve())}
    shown = " ".join(f"{k}={shlex.quote(v)}" for k, v in manifest_env.items()) + " " + shlex.join(command)
    if args.dry_run:
        print(f"\nwould run: {shown}")
        show_checks(args, blueprint, env, planned.origins)
        return 0
    print(f"\nrunning: {shown}", flush=True)
    try:
        # Not captured: Modal's progress output streams straight to the terminal.
        returncode = subprocess.run(command, env={**os.environ, **manifest_env}, check=False).returncode
    except FileNotFoundError as exc:
        raise UserError(f"could not start modal: {exc}") from None
    return returncode if returncode else after_deploy(args, blueprint, env)


def entry_module() -> Path:
    """engine/entry.py of this install: what `modal deploy` imports."""
    import engine

    return Path(engine.__file__).resolve().parent / "entry.py"


def deploy_command(env: str | None, tag: str | None, strategy: str | None = None) -> list[str]:
    """The `modal deploy` argv; the same interpreter as mdeploy, so the same installed modal."""
    import sys

    command = [sys.executable, "-m", "modal", "deploy", str(entry_module())]
    if env:
        command += ["--env", env]
    if tag:
        command += ["--tag", tag]
    if strategy:
        command += ["--strategy", strategy]
    return command


def missing_credentials(environ: Mapping[str, str], command: str | None = NAME) -> str | None:
    """Why Modal would have no token, or None when it has one. Reads no network, only what
    modal/config.py reads: per setting, MODAL_<KEY> wins over the profile in the config file.
    `command` is the mdeploy command the message suggests running with --dry-run (None: one
    that has no --dry-run, such as `run --remote`)."""
    import tomllib

    config_path = Path(environ.get("MODAL_CONFIG_PATH") or Path("~/.modal.toml").expanduser())
    profile_values: Mapping[str, object] = {}
    if config_path.is_file():
        try:
            config = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return f"cannot read the Modal config {config_path}: {exc}"
        profiles = {name: values for name, values in config.items() if isinstance(values, dict)}
        active = next((name for name, values in profiles.items() if values.get("active") is True), "default")
        profile = environ.get("MODAL_PROFILE") or active
        profile_values = profiles.get(profile, {})
    token_id = environ.get("MODAL_TOKEN_ID") or profile_values.get("token_id")
    token_secret = environ.get("MODAL_TOKEN_SECRET") or profile_values.get("token_secret")
    if token_id and token_secret:
        return None
    dry_run = f"; `mdeploy {command} --dry-run` works without them" if command else ""
    return (
        "no Modal credentials: set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET, or run `modal token new` "
        f"(writes {config_path}){dry_run}"
    )
