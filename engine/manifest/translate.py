"""Pydantic's validation errors, turned into located problems that teach the fix.

Three jobs: map pydantic's `loc` back to manifest keys (dropping the tags pydantic inserts for
discriminated unions, `services.chat.llm.vllm.gpu` -> `services.chat.gpu`); choose where the
problem points (an unknown key at the key, a bad value at the value, a missing key at its parent's
key); and word the message for a person writing YAML or TOML, with a hint: "did you mean ...",
the current name of a legacy Modal key, `quote it: "3.10"`. A value that looks like a secret is
never repeated in a message.
"""

from __future__ import annotations

import difflib
import math
import re
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, Tag
from pydantic_core import ErrorDetails

from engine.manifest.errors import Location, Problem
from engine.manifest.models.base import MDEPLOY_ERROR, Finding
from engine.manifest.models.secrets_scan import looks_secret
from engine.manifest.overlay import Merged
from engine.manifest.source import KeyPath, Span

# Keys of the Modal API before 1.0 (and of the seed's older manifests): each names its current form.
LEGACY_KEYS: dict[str, str] = {
    "container_idle_timeout": "scaling.scaledown_window",
    "keep_warm": "scaling.min_containers",
    "concurrency_limit": "scaling.max_containers",
    "allow_concurrent_inputs": "concurrency.max_inputs (functions, web services) or concurrency.max (llm services)",
    "web_endpoint": "web (a function's HTTP endpoint, Modal's fastapi_endpoint)",
}
# Modal decorator arguments that a manifest writes elsewhere: key -> (field that must exist on the
# model at that place, what to write).
MOVED_KEYS: dict[str, tuple[str, str]] = {
    "min_containers": ("scaling", "scaling.min_containers"),
    "max_containers": ("scaling", "scaling.max_containers"),
    "buffer_containers": ("scaling", "scaling.buffer_containers"),
    "scaledown_window": ("scaling", "scaling.scaledown_window"),
    "enable_memory_snapshot": ("memory_snapshot", "memory_snapshot: true"),
    "requires_proxy_auth": ("auth", "auth: {proxy: true}"),
    "unauthenticated": ("auth", "auth: {proxy: false}"),
    "target_concurrency": ("concurrency", "concurrency.target"),
    "max_concurrency": ("concurrency", "concurrency.max"),
    "gpu_count": ("gpu", 'gpu: "TYPE:COUNT", e.g. "H100:2"'),
}


# ---------------------------------------------------------------------------------------------
# Paths: pydantic loc -> manifest keys


_BRANCH_LABEL = re.compile(r"^[a-z][a-z-]*\[.*\]$")


def _resolve(value: Any, loc: KeyPath, allow_missing_last: bool) -> KeyPath | None:
    """The manifest path that `loc` denotes in `value`, skipping elements that are not keys of the
    data (union tags); None when `loc` does not fit the data."""
    if not loc:
        return ()
    head, rest = loc[0], loc[1:]
    if isinstance(value, dict) and not isinstance(head, int) and head in value:
        found = _resolve(value[head], rest, allow_missing_last)
        if found is not None:
            return (head, *found)
    if isinstance(value, list) and isinstance(head, int) and 0 <= head < len(value):
        found = _resolve(value[head], rest, allow_missing_last)
        if found is not None:
            return (head, *found)
    if isinstance(head, str) and rest and not (isinstance(value, dict) and isinstance(value.get(head), dict | list)):
        # A union tag to skip. Never a key that holds a mapping or list here: skipping it would let
        # the rest match elsewhere (a web service's missing `app` is not the top-level `app`). A
        # tag may name a scalar key (a schedule's `cron`).
        found = _resolve(value, rest, allow_missing_last)
        if found is not None:
            return found
    if isinstance(head, str) and not rest and _BRANCH_LABEL.match(head):
        # pydantic's name of a union member ("function-after[_check(), Warmup]") ends the loc when
        # the value is of no member's shape: the value itself is the offender.
        return ()
    if isinstance(value, dict) and head in value and rest and not isinstance(value[head], (dict, list)):
        # A shorthand (`retries: -1`, read as {count: -1}): the scalar written is the offender.
        return (head,)
    if allow_missing_last and not rest and isinstance(value, dict):
        return (head,)
    return None


def manifest_path(loc: KeyPath, data: Any) -> KeyPath:
    """Manifest keys for a pydantic `loc` (without a trailing "[key]")."""
    return _resolve(data, loc, False) or _resolve(data, loc, True) or tuple(loc)


def dotted(path: Iterable[str | int]) -> str:
    """`services.chat.gpu`, `functions.f.secrets[0]`, `services.chat.volumes["/data"]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.match(r"^[A-Za-z0-9_-]+$", str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f'["{part}"]'
    return out


# ---------------------------------------------------------------------------------------------
# Which model sits at a loc (for "did you mean" and field descriptions)


def _tags(tp: Any) -> set[str]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        tags = {m.tag for m in tp.__metadata__ if isinstance(m, Tag)}
        return tags or _tags(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return set().union(*(_tags(a) for a in typing.get_args(tp)))
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        tags = set()
        for name in ("kind", "engine"):
            field = tp.model_fields.get(name)
            if field is not None and typing.get_origin(field.annotation) is typing.Literal:
                tags.update(typing.get_args(field.annotation))
        return tags
    return set()


def _is_union(tp: Any) -> bool:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def model_at(tp: Any, loc: KeyPath) -> type[BaseModel] | None:
    """The model class that pydantic validated at `loc` (tags included) below type `tp`."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return model_at(typing.get_args(tp)[0], loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if not loc:
            return tp
        field = tp.model_fields.get(loc[0]) if isinstance(loc[0], str) else None
        return model_at(field.annotation, loc[1:]) if field is not None else None
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if loc:
            for member in members:
                if loc[0] in _tags(member):
                    # When the tag belongs to a union inside this member, that union picks by it
                    # (an optional schedule's `every` is PeriodSchedule, not the first member).
                    found = model_at(member, loc) if _is_union(member) else None
                    found = found or model_at(member, loc[1:])
                    if found is not None:
                        return found
        for member in members:
            found = model_at(member, loc)
            if found is not None:
                return found
        return None
    if origin is dict and loc:
        return model_at(typing.get_args(tp)[1], loc[1:])
    if origin is tuple and loc:
        return model_at(typing.get_args(tp)[0], loc[1:])
    return None


# ---------------------------------------------------------------------------------------------
# Locations


class Locator:
    """Finds `file:line:col` for a manifest path through the merged spans."""

    def __init__(self, merged: Merged):
        self.spans: Mapping[KeyPath, Span] = merged.spans
        self.plain: Mapping[KeyPath, str] = merged.plain_scalars
        self.files = merged.files
        self.deleted: Mapping[KeyPath, Span] = merged.deleted

    def _nearest(self, path: KeyPath) -> tuple[int, Span] | tuple[None, None]:
        for cut in range(len(path), -1, -1):
            span = self.spans.get(tuple(path[:cut]))
            if span is not None:
                return cut, span
        return None, None

    def at_value(self, path: KeyPath) -> Location | None:
        cut, span = self._nearest(path)
        if span is None:
            return self._fallback()
        if cut == len(path):
            return span.value
        return span.key or span.value

    def at_key(self, path: KeyPath) -> Location | None:
        cut, span = self._nearest(path)
        if span is None:
            return self._fallback()
        return span.key or span.value

    def deleted_at(self, path: KeyPath) -> Location | None:
        """Where an overlay's `null` deleted the key at `path`, if one did."""
        span = self.deleted.get(tuple(path))
        return (span.key or span.value) if span is not None else None

    def _fallback(self) -> Location | None:
        return Location(self.files[0], 1, 1) if self.files and isinstance(self.files[0], str) else None

    def source_text(self, path: KeyPath) -> str | None:
        """How a plain (unquoted) scalar was written, when the loader recorded it."""
        return self.plain.get(tuple(path))

    def was_plain(self, path: KeyPath) -> bool:
        return tuple(path) in self.plain


# ---------------------------------------------------------------------------------------------
# Messages


def show(value: Any) -> str:
    """A short, safe rendering of a value for a message: secrets are never shown."""
    if looks_secret(value):
        return "<a secret-looking value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return repr(text)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if value is None:
        return "null"
    return str(value)


def _quoted_options(ctx_text: str) -> list[str]:
    return re.findall(r"'([^']*)'", ctx_text)


def _did_you_mean(word: Any, options: Iterable[str]) -> str | None:
    if not isinstance(word, str):
        return None
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    if not close:
        close = [o for o in options if o.lower() == word.lower()]
    return f"did you mean '{close[0]}'?" if close else None


def _type_message(kind: str, value: Any, path: KeyPath, locator: Locator) -> tuple[str, str | None]:
    if value is None:
        if not path:
            return "the manifest is empty", "start with `version: 1` and `app: NAME`"
        if path[-1] == "timeout":
            return (
                "null is not allowed: Modal needs a timeout",
                'give a duration, e.g. "10m", or remove the key to inherit one',
            )
        return "null is not allowed here", "give a value, or remove the key to use the default"
    if kind == "string_type":
        if isinstance(value, bool):
            return f"expected text, got {show(value)}", f'quote it: "{show(value)}"'
        if isinstance(value, int | float):
            written = locator.source_text(path)
            if written is not None and written != str(value):
                return (
                    f"expected text, got the number {value} (YAML reads {written} as a number)",
                    f'quote it: "{written}"',
                )
            return f"expected text, got the number {value}", f'quote it: "{written or value}"'
        return f"expected text, got {show(value)}", None
    if kind == "bool_type":
        if isinstance(value, str):
            return (
                f"expected true or false, got the text {show(value)}",
                "write true or false; YAML 1.2 reads yes/no/on/off as text",
            )
        return f"expected true or false, got {show(value)}", "write true or false"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        if isinstance(value, float):
            return f"expected a whole number, got {value}", f"write {int(value)}" if value.is_integer() else None
        if isinstance(value, str):
            return f"expected a number, got the text {show(value)}", "remove the quotes" if value.strip().lstrip(
                "-"
            ).isdigit() else None
        return f"expected a whole number, got {show(value)}", None
    if kind in ("float_type", "float_parsing"):
        if isinstance(value, str):
            # Only quotes around a number are the mistake; `cpu: abc` (or a ${VAR} that gave text)
            # has none to remove.
            return f"expected a number, got the text {show(value)}", "remove the quotes" if _is_number(value) else None
        return f"expected a number, got {show(value)}", None
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value), got {show(value)}", None
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {show(value)}", "write [a, b] or one '- item' per line"
    return f"has the wrong type ({show(value)})", None


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _bound_message(kind: str, ctx: Mapping[str, Any], value: Any) -> str:
    words = {
        "greater_than_equal": ("at least", "ge"),
        "greater_than": ("greater than", "gt"),
        "less_than_equal": ("at most", "le"),
        "less_than": ("less than", "lt"),
    }
    phrase, key = words[kind]
    return f"must be {phrase} {ctx.get(key)} (got {show(value)})"


# ---------------------------------------------------------------------------------------------
# One pydantic error -> one Problem


def problem_from_error(error: ErrorDetails, data: Any, locator: Locator, root: type[BaseModel]) -> Problem:
    kind = error["type"]
    raw_loc = tuple(error["loc"])
    on_dict_key = bool(raw_loc) and raw_loc[-1] == "[key]"
    if on_dict_key:
        raw_loc = raw_loc[:-1]
    path = manifest_path(raw_loc, data)
    ctx = error.get("ctx") or {}
    value = error.get("input")
    hint: str | None = None

    if kind == MDEPLOY_ERROR:
        path = manifest_path((*raw_loc, *(ctx.get("at") or ())), data)
        message, hint = ctx.get("message", error["msg"]), ctx.get("hint")
        if on_dict_key:
            return Problem(locator.at_key(path), dotted(path), message, hint)
        return Problem(locator.at_value(path), dotted(path), message, hint)

    if on_dict_key:
        return Problem(locator.at_key(path), dotted(path), f"key {show(path[-1])} is not allowed here", None)

    if kind == "extra_forbidden":
        key = path[-1] if path else ""
        model = model_at(root, raw_loc[:-1])
        fields = model.model_fields if model is not None else {}
        message = f"unknown key {show(key)}"
        if key in LEGACY_KEYS:
            message, hint = f"`{key}` is Modal's old name for this setting", f"write {LEGACY_KEYS[key]}"
        elif key in MOVED_KEYS and MOVED_KEYS[key][0] in fields:
            hint = f"write {MOVED_KEYS[key][1]}"
        elif fields:
            hint = _did_you_mean(key, fields)
            moved = _did_you_mean(key, [k for k, (needs, _) in MOVED_KEYS.items() if needs in fields])
            if hint is None and moved is not None:
                hint = f"did you mean {MOVED_KEYS[moved.split(chr(39))[1]][1]}?"
            hint = hint or "allowed keys: " + ", ".join(fields)
        return Problem(locator.at_key(path), dotted(path), message, hint)

    if kind == "missing":
        model = model_at(root, raw_loc[:-1])
        last = path[-1] if path else None
        field = model.model_fields.get(last) if model is not None and isinstance(last, str) else None
        hint = field.description if field is not None else None
        deleted = locator.deleted_at(path)
        if deleted is not None:
            return Problem(
                deleted, dotted(path), f"`null` deletes the required key {show(path[-1])}", _restore_hint(hint)
            )
        return Problem(locator.at_key(path[:-1]), dotted(path), f"missing required key {show(path[-1])}", hint)

    if kind in ("union_tag_invalid", "union_tag_not_found"):
        discriminator = (ctx.get("discriminator") or "").strip("'")
        # A callable discriminator is named by its function; the manifest key it reads is `kind`.
        discriminator = _CALLABLE_DISCRIMINATORS.get(discriminator, discriminator)
        options = _quoted_options(ctx.get("expected_tags", ""))
        if kind == "union_tag_not_found":
            hint = (
                f"add {discriminator}: " + " | ".join(_expected_tags(discriminator))
                if _expected_tags(discriminator)
                else None
            )
            path = manifest_path(raw_loc, data)
            tag_path = _resolve(data, (*raw_loc, discriminator), True) or (*path, discriminator)
            deleted = locator.deleted_at(tag_path)
            if deleted is not None:
                return Problem(
                    deleted,
                    dotted(tag_path),
                    f"`null` deletes the required key {show(discriminator)}",
                    _restore_hint(hint),
                )
            return Problem(
                locator.at_key(tag_path[:-1]), dotted(tag_path), f"missing required key {show(discriminator)}", hint
            )
        tag_path = manifest_path((*raw_loc, discriminator), data)
        message = f"unknown {discriminator} {show(ctx.get('tag'))}; expected one of: {', '.join(options)}"
        return Problem(locator.at_value(tag_path), dotted(tag_path), message, _did_you_mean(ctx.get("tag"), options))

    if kind == "schedule_kind":
        return Problem(
            locator.at_value(path),
            dotted(path),
            error["msg"],
            'e.g. {cron: "0 3 * * *", timezone: "Europe/Berlin"} or {every: "4h"}',
        )

    if kind == "literal_error":
        options = _quoted_options(ctx.get("expected", "")) or [ctx.get("expected", "")]
        message = f"must be one of: {', '.join(options)} (got {show(value)})"
        return Problem(locator.at_value(path), dotted(path), message, _did_you_mean(value, options))

    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return Problem(locator.at_value(path), dotted(path), _bound_message(kind, ctx, value), None)

    if kind == "string_too_short":
        return Problem(locator.at_value(path), dotted(path), "must not be empty", None)

    if kind == "string_pattern_mismatch":
        message = f"{show(value)} does not have the expected form"
        if path and path[-1] == "python":
            hint = 'write a version like "3.12" (quoted)'
        else:
            hint = f"expected pattern {ctx.get('pattern')}"
        return Problem(locator.at_value(path), dotted(path), message, hint)

    if kind.endswith("_type") or kind.endswith("_parsing") or kind == "int_from_float":
        message, hint = _type_message(kind, value, path, locator)
        return Problem(locator.at_value(path), dotted(path), message, hint)

    # Anything else (value_error from a validator, rare pydantic types): pydantic's own words,
    # which never contain the input.
    message = re.sub(r"^(Value|Assertion) error, ", "", error["msg"])
    return Problem(locator.at_value(path), dotted(path), message, None)


def _restore_hint(what: str | None) -> str:
    about = f": {what.rstrip('.')}" if what else ""
    return f"remove the null to keep the base's value, or set a new one{about}"


_CALLABLE_DISCRIMINATORS = {"_function_kind()": "kind"}  # functions: kind: function (the default) | cls
_DISCRIMINATOR_TAGS = {"kind": ("llm", "server", "web"), "engine": ("vllm", "sglang", "trtllm", "transformers")}


def _expected_tags(discriminator: str) -> tuple[str, ...]:
    return _DISCRIMINATOR_TAGS.get(discriminator, ())


def problem_from_finding(finding: Finding, locator: Locator) -> Problem:
    where = locator.at_key(finding.path) if finding.on_key else locator.at_value(finding.path)
    return Problem(where, dotted(finding.path), finding.message, finding.hint, finding.severity)
