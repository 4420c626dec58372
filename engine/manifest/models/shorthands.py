"""Every shorthand a manifest accepts, each parsed in one place that lists its forms.

- duration: `30` (seconds), `"30s"`, `"10m"`, `"4h"`, `"1d"`, `"1h30m"`   -> int seconds
- memory:   `512` (MiB), `"512MiB"`, `"16GiB"`, `"1TiB"`                  -> int MiB
- gpu:      `"H100"`, `"h100:2"`, `"A100-80GB"`, or a fallback list of those -> tuple of Modal strings
- import path: `"package.module:attr"`
- names:    Modal object names (`^[A-Za-z0-9._-]{1,64}$`, not an App id) and local keys
- mount paths: absolute, no `..`, not `/`

Each parser raises `fail(...)` with a message that says what to write instead; the `Annotated`
types below attach the parser and the JSON Schema that describes the same forms to editors.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from engine.gpus import GPUS, lookup_names
from engine.gpus import spelled as _spelled_gpu
from engine.manifest.models.base import fail
from engine.manifest.models.numbers import MAX_NUMBER

# ---------------------------------------------------------------------------------------------
# Durations

_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_DURATION_UNITS = (86400, 3600, 60, 1)
DURATION_PATTERN = r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$"
DURATION_FORMS = 'seconds as a number, or a string like "30s", "10m", "4h", "1d", "1h30m"'


def parse_duration(value: Any) -> Any:
    """A duration in whole seconds, from `90` or `"90s"`, `"10m"`, `"4h"`, `"1d"`, `"1h30m"`."""
    if isinstance(value, bool):
        raise fail("expected a duration, got true/false", hint=f"write {DURATION_FORMS}")
    if isinstance(value, int):
        if value < 0:
            raise fail("a duration cannot be negative")
        return value
    if isinstance(value, float):
        if value.is_integer() and value >= 0:
            return int(value)
        raise fail("a duration is a whole number of seconds", hint='write e.g. 90 or "1m30s"')
    if isinstance(value, str):
        text = value.strip().lower()
        match = _DURATION_RE.match(text)
        if text and match and any(match.groups()):
            seconds = sum(int(g) * unit for g, unit in zip(match.groups(), _DURATION_UNITS) if g)
            if seconds > MAX_NUMBER:
                raise fail(
                    f"is far too long: no Modal setting takes more than {MAX_NUMBER} seconds",
                    hint="check for a stray digit or a wrong unit",
                )
            return seconds
        raise fail("is not a duration", hint=f"write {DURATION_FORMS}")
    return value  # None, lists, mappings: let the int check report the type


def duration_schema(minimum: int = 0, maximum: int | None = None) -> dict[str, Any]:
    number: dict[str, Any] = {"type": "integer", "minimum": minimum}
    if maximum is not None:
        number["maximum"] = maximum
    return {"anyOf": [number, {"type": "string", "pattern": DURATION_PATTERN, "minLength": 2}]}


def _duration_between(minimum: int, maximum: int | None) -> Callable[[int], int]:
    def check(seconds: int) -> int:
        if seconds < minimum or (maximum is not None and seconds > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            bound = f"between {minimum}{upper}" if maximum is not None else f"at least {minimum}"
            raise fail(f"must be {bound} seconds (got {seconds})")
        return seconds

    return check


@dataclass(frozen=True)
class DurationSeconds(GroupedMetadata):
    """`Annotated[int, DurationSeconds(minimum, maximum)]`: a duration field in whole seconds,
    bounded to [minimum, maximum]. Pydantic unpacks the validators and the schema below in place
    (a grouped metadata), while mypy sees the `int` the field holds."""

    minimum: int = 0
    maximum: int | None = None

    def __iter__(self) -> Iterator[object]:
        yield BeforeValidator(parse_duration)
        yield AfterValidator(_duration_between(self.minimum, self.maximum))
        yield WithJsonSchema(duration_schema(self.minimum, self.maximum))


# ---------------------------------------------------------------------------------------------
# Memory

_MEMORY_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(MiB|GiB|TiB)$", re.IGNORECASE)
_MEMORY_DECIMAL_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*(M|G|T|MB|GB|TB|Mi|Gi|Ti)$", re.IGNORECASE)
_MEMORY_FACTORS = {"mib": 1, "gib": 1024, "tib": 1024 * 1024}
MEMORY_PATTERN = r"^\d+(\.\d+)?\s*([Mm][Ii][Bb]|[Gg][Ii][Bb]|[Tt][Ii][Bb])$"
MEMORY_FORMS = 'MiB as a number, or a string like "512MiB", "16GiB"'


def parse_memory(value: Any) -> Any:
    """Memory in MiB, from `512` or `"512MiB"`, `"16GiB"`, `"1TiB"`. Decimal units are refused:
    "16GB" is ambiguous (Modal counts MiB), so the user picks the binary unit they mean."""
    if isinstance(value, bool):
        raise fail("expected an amount of memory, got true/false", hint=f"write {MEMORY_FORMS}")
    if isinstance(value, int):
        if value <= 0:
            raise fail("memory must be positive", hint=f"write {MEMORY_FORMS}")
        return value
    if isinstance(value, str):
        text = value.strip()
        match = _MEMORY_RE.match(text)
        if match:
            mib = float(match.group(1)) * _MEMORY_FACTORS[match.group(2).lower()]
            if mib <= 0 or not mib.is_integer():
                raise fail("is not a whole, positive number of MiB", hint=f"write {MEMORY_FORMS}")
            if mib > MAX_NUMBER:
                raise fail(
                    f"is far too large: no Modal setting takes more than {MAX_NUMBER} MiB",
                    hint="check for a stray digit or a wrong unit",
                )
            return int(mib)
        decimal = _MEMORY_DECIMAL_RE.match(text)
        if decimal:
            unit = decimal.group(2)[0].upper()
            raise fail(
                f"unit {decimal.group(2)!r} is ambiguous",
                hint=f'write binary units, e.g. "{decimal.group(1)}{unit}iB"',
            )
        raise fail("is not an amount of memory", hint=f"write {MEMORY_FORMS}")
    return value


def _mib_text(mib: int) -> str:
    for unit, factor in (("TiB", 1024 * 1024), ("GiB", 1024)):
        if mib % factor == 0:
            return f"{mib // factor} {unit}"
    return f"{mib} MiB"


def _memory_at_most(maximum: int, why: str) -> Callable[[int], int]:
    def check(mib: int) -> int:
        if mib > maximum:
            raise fail(
                f"{_mib_text(mib)} is more than {why}", hint='check the unit: a number is MiB; write e.g. "16GiB"'
            )
        return mib

    return check


@dataclass(frozen=True)
class MemorySize(GroupedMetadata):
    """`Annotated[int, MemorySize(maximum, why)]`: an amount in MiB, at most `maximum` (`why` names
    that limit, e.g. "Modal's largest ephemeral disk (3 TiB)"); unpacked by pydantic in place, as
    `DurationSeconds` is."""

    maximum: int
    why: str

    def __iter__(self) -> Iterator[object]:
        schema = {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": self.maximum},
                {"type": "string", "pattern": MEMORY_PATTERN},
            ]
        }
        yield BeforeValidator(parse_memory)
        yield AfterValidator(_memory_at_most(self.maximum, self.why))
        yield WithJsonSchema(schema)


# ---------------------------------------------------------------------------------------------
# GPUs

# The GPU types Modal serves (gpus.py has the table and its sources), with the most a container
# may request. Modal checks only the count client-side, so this list is what catches "H110".
GPU_TYPES: dict[str, int] = {name: gpu.max_per_container for name, gpu in GPUS.items()}
GPU_FORMS = '"H100", "H100:2", "A100-80GB" (types: ' + ", ".join(GPU_TYPES) + ")"
_GPU_LOOKUP = {upper: _spelled_gpu(upper) for upper in lookup_names()}
_LEGACY_GPU_RE = re.compile(r"^(?:modal\.)?(?:gpu\.)?([A-Za-z0-9!+-]+)\((?:count\s*=\s*)?(\d*)\)$")
GPU_PATTERN = r"^[A-Za-z0-9!+-]+(:[0-9]+)?$"


def _gpu_suggestion(name: str) -> str | None:
    import difflib

    close = difflib.get_close_matches(name.upper(), list(_GPU_LOOKUP), n=1, cutoff=0.6)
    return _GPU_LOOKUP[close[0]] if close else None


def parse_gpu_entry(text: str) -> str:
    """One GPU request, `TYPE` or `TYPE:COUNT`, normalised to Modal's spelling ("a100-80gb:2" ->
    "A100-80GB:2"; a count of 1 is dropped)."""
    legacy = _LEGACY_GPU_RE.match(text.replace(" ", ""))
    if legacy:
        name, count = legacy.group(1), legacy.group(2) or "1"
        spelled = _GPU_LOOKUP.get(name.upper(), name)
        current = spelled if count == "1" else f"{spelled}:{count}"
        raise fail("the modal.gpu classes were removed in Modal 1.0", hint=f'write "{current}"')
    name, _, count_text = text.strip().partition(":")
    if name.lower() == "any":
        raise fail('"any" is not a GPU type Modal accepts', hint=f"name a type: {GPU_FORMS}")
    spelled = _GPU_LOOKUP.get(name.upper())
    if spelled is None:
        close = _gpu_suggestion(name)
        hint = f"did you mean '{close}'?" if close else f"write {GPU_FORMS}"
        raise fail(f"unknown GPU type {name!r}", hint=hint)
    if not count_text:
        return spelled
    if not count_text.isdigit():
        raise fail(f"GPU count {count_text!r} is not a number", hint=f'write e.g. "{spelled}:2"')
    count = int(count_text)
    most = GPU_TYPES[spelled]
    if not 1 <= count <= most:
        raise fail(
            f"{spelled} takes 1 to {most} GPUs per container (got {count})", hint=f'write e.g. "{spelled}:{most}"'
        )
    return spelled if count == 1 else f"{spelled}:{count}"


def gpu_count(entry: str) -> int:
    """How many GPUs one normalised request holds ("H100:8" -> 8, "H100" -> 1)."""
    _, _, count = entry.partition(":")
    return int(count) if count else 1


def parse_gpu(value: Any) -> Any:
    """`gpu: "H100:2"` or a fallback list `["H100:2", "A100-80GB:2"]` -> tuple of Modal strings."""
    if isinstance(value, dict) and "type" in value:
        count = value.get("count", 1)
        kind = _GPU_LOOKUP.get(str(value["type"]).upper(), value["type"])
        current = kind if count == 1 else f"{kind}:{count}"
        raise fail("a GPU is written as one string, not a mapping", hint=f'write "{current}"')
    if isinstance(value, str):
        return (parse_gpu_entry(value),)
    if isinstance(value, list):
        if not value:
            raise fail("an empty GPU list requests nothing", hint="leave `gpu` out for a CPU-only container")
        entries = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise fail("each GPU in a fallback list is a string", hint=f"write {GPU_FORMS}", at=(index,))
            try:
                entries.append(parse_gpu_entry(item))
            except Exception as exc:  # re-raise located at the list item
                ctx = getattr(exc, "context", None) or {}
                raise fail(ctx.get("message", str(exc)), hint=ctx.get("hint"), at=(index,)) from None
        counts = {gpu_count(e) for e in entries}
        if len(counts) > 1:
            raise fail("every GPU in a fallback list must have the same count", hint='e.g. ["H100:2", "A100-80GB:2"]')
        return tuple(entries)
    return value


GPU_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": GPU_PATTERN},
        {"type": "array", "items": {"type": "string", "pattern": GPU_PATTERN}, "minItems": 1},
    ],
    "examples": ["H100", "A100-80GB:2", ["H100:2", "A100-80GB:2"]],
}

Gpu = Annotated[tuple[str, ...], BeforeValidator(parse_gpu), WithJsonSchema(GPU_SCHEMA)]
"""GPU request(s), normalised to Modal strings in preference order."""


# ---------------------------------------------------------------------------------------------
# Import paths

IMPORT_PATH_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*:[A-Za-z_][A-Za-z0-9_]*$"
_IMPORT_PATH_RE = re.compile(IMPORT_PATH_PATTERN)


def check_import_path(value: str) -> str:
    if not _IMPORT_PATH_RE.match(value):
        hint = 'write "package.module:attr"'
        if ":" not in value and "." in value:
            module, _, attr = value.rpartition(".")
            hint = f'write "{module}:{attr}": a colon before the attribute'
        raise fail("is not an import path", hint=hint)
    return value


ImportPath = Annotated[
    str, AfterValidator(check_import_path), WithJsonSchema({"type": "string", "pattern": IMPORT_PATH_PATTERN})
]
"""`package.module:attr`: a module to import and one attribute of it."""


# ---------------------------------------------------------------------------------------------
# Names

NAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_NAME_RE = re.compile(NAME_PATTERN)
_APP_ID_RE = re.compile(r"^ap-[a-zA-Z0-9]{22}$")
NAME_RULE = "letters, digits, '-', '_' and '.', at most 64 characters"


def check_modal_name(value: str) -> str:
    """Modal's object-name rule (modal/_utils/name_utils.py): the same for apps, volumes, secrets,
    dicts and queues, and used for the manifest's own keys so that they can become Modal names."""
    if not _NAME_RE.match(value) or _APP_ID_RE.match(value):
        raise fail("is not a valid Modal name", hint=NAME_RULE)
    if value in (".", ".."):
        # Modal would take it, but it is a path: the local runner keeps a volume in
        # .mdeploy/volumes/NAME, and "." or ".." would put it outside that folder.
        raise fail(f"{value!r} is a path, not a name", hint="name it with letters or digits, e.g. 'cache'")
    return value


ModalName = Annotated[
    str, AfterValidator(check_modal_name), WithJsonSchema({"type": "string", "pattern": NAME_PATTERN})
]
"""A Modal object name."""

TAG_PATTERN = r"^[A-Za-z0-9._-]{1,63}$"
_TAG_RE = re.compile(TAG_PATTERN)


def check_app_tag(value: str) -> str:
    """Modal's rule for app tag keys and values (modal/_utils/name_utils.py check_tag_dict)."""
    if not _TAG_RE.match(value):
        raise fail("is not a valid Modal tag", hint="letters, digits, '-', '_' and '.', at most 63 characters")
    return value


AppTag = Annotated[str, AfterValidator(check_app_tag), WithJsonSchema({"type": "string", "pattern": TAG_PATTERN})]
"""A key or value of a Modal app tag (`modal.App(tags=...)`): what billing reports group by."""


def python_identifier(name: str) -> str:
    """The Python identifier a manifest key becomes in the entry module ("chat-api" -> "chat_api").
    Two keys that become the same identifier would overwrite each other, so they are refused."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not ident or ident[0].isdigit():
        ident = "_" + ident
    if keyword.iskeyword(ident):
        ident += "_"
    return ident


ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
_ENV_NAME_RE = re.compile(ENV_NAME_PATTERN)


def check_env_name(value: str) -> str:
    if not _ENV_NAME_RE.match(value):
        raise fail("is not an environment variable name", hint="letters, digits and '_', not starting with a digit")
    return value


EnvName = Annotated[
    str, AfterValidator(check_env_name), WithJsonSchema({"type": "string", "pattern": ENV_NAME_PATTERN})
]
"""An environment variable name (`HF_TOKEN`)."""


# ---------------------------------------------------------------------------------------------
# Mount paths

MOUNT_PATH_PATTERN = r"^/.+"
_RESERVED_MOUNTS = ("/", "/root", "/tmp")  # Modal refuses these (modal/_utils/mount_utils.py)


def check_mount_path(value: str) -> str:
    """Modal's mount-point rule: a canonical absolute path, not `/`, `/root` or `/tmp`."""
    import posixpath

    if not value.startswith("/"):
        raise fail("a mount path must be absolute", hint=f"write '/{value.lstrip('./')}'")
    if ".." in value.split("/"):
        raise fail("a mount path cannot contain '..'", hint="write the absolute path it means")
    canonical = posixpath.normpath(value)
    if canonical.startswith("//"):
        canonical = "/" + canonical.lstrip("/")
    if canonical in _RESERVED_MOUNTS:
        raise fail(f"Modal cannot mount at {canonical!r}", hint="mount under a folder, e.g. '/data' or '/root/data'")
    if canonical != value:
        raise fail("a mount path must be written in canonical form", hint=f"write '{canonical}'")
    return value


MountPath = Annotated[
    str, AfterValidator(check_mount_path), WithJsonSchema({"type": "string", "pattern": MOUNT_PATH_PATTERN})
]
