"""Rules between objects of one manifest that need nothing beyond the manifest itself.

Each rule is reported at the key that causes the conflict, with the fix. Like the reference rules
in `manifest.py`, they read the raw merged data (tolerating shapes the models reject), so a run
reports them beside type errors. Rules that need an engine's knowledge (its cache paths, the
variables it relies on) run in the planner (`engine/planner/checks.py`); rules that read
the project's files run in `engine/project/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from engine.manifest.models.base import Finding
from engine.manifest.source import KeyPath

_CONTAINERS = ("services", "functions")
# Variables the planner and the backends set in every container (MDEPLOY_APP, MDEPLOY_BLUEPRINT,
# the engines' MDEPLOY_TRTLLM_CONFIG...): a manifest value would be overwritten, or would break them.
RESERVED_ENV_PREFIX = "MDEPLOY_"
# Shell variables nobody writes into a value to keep literally: `$HOME/data` expects a shell.
_SHELL_VARIABLES = frozenset({"HOME", "PATH", "PWD", "USER"})
# `$NAME` as a shell writes it; `${NAME}` was expanded by the loader already, and what survives
# (from `$${NAME}`) was asked to stay literal.
_DOLLAR_NAME = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
# Modal's default URL label of a web function: the app's and the function's names, slugged.
_MAX_LABEL = 63


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sections(data: dict[str, Any]) -> Iterator[tuple[tuple[str, str], dict[str, Any]]]:
    """(path, body) of every service and function, in the order the manifest writes them."""
    for section in data:
        if section in _CONTAINERS:
            for key, body in _mapping(data.get(section)).items():
                if isinstance(key, str):
                    yield (section, key), _mapping(body)


def check_volume_names(data: dict[str, Any]) -> list[Finding]:
    """Two volume keys naming one Modal volume, both mounted in one container: Modal refuses to
    mount a volume at two paths ("The same Volume cannot be mounted in multiple locations")."""
    names = {}  # volume key -> its Modal name
    for key, body in _mapping(data.get("volumes")).items():
        name = _mapping(body).get("name")
        names[key] = name if isinstance(name, str) else key
    defaults_mounts = _mapping(_mapping(data.get("defaults")).get("volumes"))
    findings = []
    for path, body in _sections(data):
        own = _mapping(body.get("volumes"))
        mounts: dict[str, tuple[KeyPath, Any]] = {
            mount: (("defaults", "volumes", mount), key) for mount, key in defaults_mounts.items()
        }
        mounts.update({mount: ((*path, "volumes", mount), key) for mount, key in own.items()})
        first: dict[str, tuple[str, str]] = {}  # Modal name -> (key, mount path)
        for mount, (where, key) in mounts.items():
            if not isinstance(key, str) or key not in names:
                continue
            name = names[key]
            if name in first and first[name][0] != key:
                other_key, other_mount = first[name]
                findings.append(
                    Finding(
                        where,
                        f"volume {key!r} is the Modal volume {name!r}, which {other_key!r} already mounts at {other_mount}",
                        "Modal mounts a volume at one path per container: mount one of the two keys",
                    )
                )
            first.setdefault(name, (key, mount))
    return findings


def _slug(name: str) -> str:
    return name.lower().replace("_", "-")


def _web_labels(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str, bool]]:
    """(where, label, explicit) of every web endpoint: its `label`, else Modal's default."""
    app = data.get("app") if isinstance(data.get("app"), str) else None
    for path, body in _sections(data):
        where: KeyPath
        if path[0] == "services":
            if body.get("kind") != "web":
                continue
            label, where = body.get("label"), (*path, "label")
        else:
            if not isinstance(body.get("web"), dict):
                continue
            label, where = body["web"].get("label"), (*path, "web", "label")
        if isinstance(label, str):
            yield where, label, True
        elif app is not None and "." not in app + path[1]:
            default = f"{_slug(app)}-{_slug(path[1])}"
            if len(default) <= _MAX_LABEL:
                yield path, default, False


def check_web_labels(data: dict[str, Any]) -> list[Finding]:
    """Each web endpoint of an app needs its own URL label (`https://<workspace>--<label>.modal.run`)."""
    findings = []
    seen: dict[str, tuple[KeyPath, bool]] = {}
    for where, label, explicit in _web_labels(data):
        if label in seen:
            other, other_explicit = seen[label]
            owner = ".".join(str(p) for p in other[:2])
            whose = f"the label of {owner}" if other_explicit else f"the default URL label of {owner}"
            if explicit:
                findings.append(
                    Finding(where, f"URL label {label!r} is also {whose}", "give each web endpoint its own label")
                )
            else:
                findings.append(
                    Finding(
                        where,
                        f"its default URL label {label!r} is also {whose}",
                        "set a `label` of its own",
                        on_key=True,
                    )
                )
        else:
            seen[label] = (where, explicit)
    return findings


def _env_maps(data: dict[str, Any]) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
    yield ("defaults", "env"), _mapping(_mapping(data.get("defaults")).get("env"))
    for path, body in _sections(data):
        yield (*path, "env"), _mapping(body.get("env"))


def check_reserved_env(data: dict[str, Any]) -> list[Finding]:
    """MDEPLOY_* variables are mdeploy's: it sets them in every container after the manifest's."""
    findings = []
    images = [
        (("images", key, "env"), _mapping(_mapping(body).get("env")))
        for key, body in _mapping(data.get("images")).items()
    ]
    for where, env in [*_env_maps(data), *images]:
        for name in env:
            if isinstance(name, str) and name.startswith(RESERVED_ENV_PREFIX):
                findings.append(
                    Finding(
                        (*where, name),
                        f"names starting with {RESERVED_ENV_PREFIX} are reserved for the variables mdeploy sets in every container",
                        "rename the variable; mdeploy sets MDEPLOY_APP to the app's name itself",
                        on_key=True,
                    )
                )
    return findings


def _unexpanded(name: str, value: str) -> tuple[str, str] | None:
    """(what is not expanded, the fix) when `value` plainly expects a shell to expand it."""
    for match in _DOLLAR_NAME.finditer(value):
        variable = match.group(1)
        if variable == name:
            return f"${variable}", f"write the whole value of {name}: its value in the image is not visible here"
        if variable in _SHELL_VARIABLES:
            return f"${variable}", "write the value in full (the container runs as root: HOME is /root)"
    if value == "~" or value.startswith("~/"):
        return "~", "write the path in full (the container runs as root: ~ is /root)"
    return None


def check_env_expansion(data: dict[str, Any]) -> list[Finding]:
    """Modal sets a container's variables exactly as written: no shell expands `$PATH` or `~`."""
    findings = []
    for where, env in _env_maps(data):
        for name, value in env.items():
            if isinstance(name, str) and isinstance(value, str):
                found = _unexpanded(name, value)
                if found is not None:
                    what, hint = found
                    findings.append(
                        Finding(
                            (*where, name),
                            f"{what} is not expanded: Modal sets environment variables as written, without a shell",
                            hint,
                        )
                    )
    return findings


def check_relations(data: dict[str, Any]) -> list[Finding]:
    """All the rules of this module, in a fixed order."""
    return [*check_volume_names(data), *check_web_labels(data), *check_reserved_env(data), *check_env_expansion(data)]
