"""`engine_args.extra_args` read the way the engine's parser will read them, before any cold start.

The flags come from the catalogue of the engine version the default image pins (catalogue.py): a
flag that version does not have is an error (with "did you mean", or "removed" when an older
catalogued version had it), a switch given a value, a flag left without one, and a value its
type would refuse (an integer, a float, one of the choices) are errors too. Each problem names the
index of the argument, so the planner can locate it at `extra_args[i]`.

Flags the planner sets itself are refused by owned_flags.py; here they are only read past.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.engines import catalogue as catalogues
from engine.engines.catalogue import Catalogue, Option
from engine.engines.owned_flags import FlagSyntax, flag_name

_KIND_WORDS = {"int": "an integer", "float": "a number", "bool": "true or false"}


@dataclass(frozen=True)
class ArgProblem:
    index: int  # into extra_args
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class _Resolved:
    option: Option | None
    spelling: str  # as the engine will read it (dashes, the full flag for an abbreviation)
    dotted: bool = False  # vLLM's `--json-arg.key`: one JSON key, always followed by its value
    problem: str | None = None
    hint: str | None = None


def check_extra_args(
    engine: str,
    version: str | None,
    syntax: FlagSyntax,
    args: Sequence[str],
    owned: Callable[[str], bool],
) -> list[ArgProblem]:
    """The problems in `args` for `engine` at `version`; none when no catalogue is checked in.

    `owned(arg)` says whether the planner sets the flag `arg` names (reported elsewhere)."""
    table = catalogues.load(engine, version) if version and args else None  # no args: no file read
    if table is None:
        return []
    problems: list[ArgProblem] = []
    switch: _Resolved | None = None  # the flag just read, when it takes no value
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":  # everything after it is positional for the parser: nothing to check
            break
        name = flag_name(arg)
        if name is None:
            problems.append(_stray(i, arg, switch, table))
            i += 1
            continue
        resolved = _resolve(arg, name, table, syntax)
        switch = resolved if resolved.option is not None and resolved.option.nargs == 0 else None
        if resolved.option is None:
            if not owned(arg):
                problems.append(ArgProblem(i, resolved.problem or "", resolved.hint))
            i += 1
            while i < len(args) and _is_value(args[i]):  # its values: one problem is enough
                i += 1
            continue
        attached = _attached_value(arg, resolved)
        count = _values_taken(resolved, attached, args, i + 1)
        values = ([attached] if attached is not None else []) + list(args[i + 1 : i + 1 + count])
        if not owned(arg):
            problems += _value_problems(i, resolved, attached, values, table)
        i += 1 + count
    return problems


def _stray(index: int, arg: str, switch: _Resolved | None, table: Catalogue) -> ArgProblem:
    refused = f"{table.engine} would refuse it as an unrecognized argument"
    if switch is None:
        return ArgProblem(index, f"{arg!r} is not a flag, and no flag before it takes a value", f"{refused}; remove it")
    return ArgProblem(
        index,
        f"{arg!r} follows {switch.spelling}, a switch that takes no value: {refused}",
        f"remove it{_other_spellings(switch)}",
    )


def _other_spellings(resolved: _Resolved) -> str:
    assert resolved.option is not None
    others = [s for s in resolved.option.spellings if s != resolved.spelling and s.startswith("--")]
    return f"; its other spellings are {', '.join(others)}" if others else ""


def find_option(engine: str, version: str, syntax: FlagSyntax, arg: str) -> Option | None:
    """The option of `engine` at `version` that the flag argument `arg` names, or None."""
    table = catalogues.load(engine, version)
    name = flag_name(arg)
    return _resolve(arg, name, table, syntax).option if table and name else None


def _resolve(arg: str, name: str, table: Catalogue, syntax: FlagSyntax) -> _Resolved:
    for short, long in syntax.short_rewrites:
        if arg.startswith(short):  # `-O3`, `-O=3`, or `-O` with its value next
            option = table.by_spelling.get(long)
            return _Resolved(option, long) if option else _unknown(table, short)
    if name.startswith("--"):
        base, dot, _key = name.partition(".")
        if syntax.underscores_are_dashes:
            base = base.replace("_", "-")
        dotted = bool(dot) and syntax.dotted_keys
        lookup = base if dotted or not dot else name
        option = table.by_spelling.get(lookup)
        if option is not None:
            return _Resolved(option, lookup, dotted)
        if table.abbreviations and len(lookup) > 3:
            matches = sorted({s for s in table.long_spellings() if s.startswith(lookup)})
            if len(matches) == 1:
                return _Resolved(table.by_spelling[matches[0]], matches[0], dotted)
            if len(matches) > 1:
                return _Resolved(
                    None,
                    lookup,
                    problem=f"{lookup} is ambiguous for {table.engine} {table.version}: it "
                    f"abbreviates {', '.join(matches[:4])}{' ...' if len(matches) > 4 else ''}",
                    hint="write the whole flag",
                )
        return _unknown(table, lookup)
    # A single-dash spelling: exact (`-tp`, `-q`), `-tp=2`, or a one-letter option with its
    # value attached (`-n4`), as argparse reads them.
    if name in table.by_spelling:
        return _Resolved(table.by_spelling[name], name)
    one_letter = table.by_spelling.get(arg[:2])
    if one_letter is not None and one_letter.nargs != 0:
        return _Resolved(one_letter, arg[:2])
    return _unknown(table, name)


def _unknown(table: Catalogue, spelling: str) -> _Resolved:
    for old in catalogues.older(table.engine, table.version):
        if spelling in old.by_spelling:
            return _Resolved(
                None,
                spelling,
                problem=f"{spelling} was removed from {table.engine}: {old.version} had it, {table.version} "
                f"(the version mdeploy runs) does not",
                hint=_suggest(table, spelling) or "remove it; the engine's release notes say what replaced it",
            )
    return _Resolved(
        None,
        spelling,
        problem=f"{spelling} is not an option of {table.engine} {table.version} (the version mdeploy runs)",
        hint=_suggest(table, spelling) or f"see `{table.engine} --help` of {table.version}; docs/engines.md",
    )


def _suggest(table: Catalogue, spelling: str) -> str | None:
    pool = table.long_spellings() if spelling.startswith("--") else sorted(table.by_spelling)
    close = difflib.get_close_matches(spelling, pool, n=1, cutoff=0.75)
    return f"did you mean {close[0]}?" if close else None


def _attached_value(arg: str, resolved: _Resolved) -> str | None:
    if arg.startswith("--") or arg == resolved.spelling:
        return arg.split("=", 1)[1] if "=" in arg else None
    # A single-dash spelling with its value attached: `-tp=2`, `-n4`, vLLM's `-O3` and `-O=3`.
    rest = arg[len(resolved.spelling) :] if arg.startswith(resolved.spelling) else arg[2:]
    return rest.removeprefix("=") if rest else None


def _is_value(arg: str) -> bool:
    return flag_name(arg) is None and arg != "--"


def _values_taken(resolved: _Resolved, attached: str | None, args: Sequence[str], start: int) -> int:
    """How many of the arguments after the flag the parser gives it."""
    if attached is not None:
        return 0
    if resolved.dotted:
        return 1 if start < len(args) else 0  # vLLM takes the next argument, whatever it is
    nargs = resolved.option.nargs if resolved.option else 0
    if nargs == 0:
        return 0
    if nargs in (1, "?"):
        return 1 if start < len(args) and _is_value(args[start]) else 0
    if isinstance(nargs, int):
        taken = 0
        while taken < nargs and start + taken < len(args) and _is_value(args[start + taken]):
            taken += 1
        return taken
    taken = 0  # "*" and "+": every value up to the next flag
    while start + taken < len(args) and _is_value(args[start + taken]):
        taken += 1
    return taken


def _value_problems(
    index: int, resolved: _Resolved, attached: str | None, values: list[str], table: Catalogue
) -> list[ArgProblem]:
    option, flag = resolved.option, resolved.spelling
    assert option is not None
    where = f"{table.engine} {table.version}"
    if resolved.dotted:
        if not values:
            return [ArgProblem(index, f"{flag} needs a value after it", "write the key's value as the next item")]
        return []
    if option.nargs == 0:
        if attached is not None:
            return [
                ArgProblem(
                    index,
                    f"{flag} is a switch in {where} and takes no value",
                    f"write {flag} alone{_other_spellings(resolved)}",
                )
            ]
        return []
    wanted = option.nargs
    if not values and wanted not in ("?", "*"):
        return [ArgProblem(index, f"{flag} needs a value", f"put its value after it, or write {flag}=VALUE")]
    if isinstance(wanted, int) and len(values) < wanted:
        return [ArgProblem(index, f"{flag} takes {wanted} values, {len(values)} given")]
    problems = []
    for offset, value in enumerate(values):
        at = index if attached is not None else index + offset + 1
        wrong = _wrong_value(option, value)
        if wrong:
            problems.append(ArgProblem(at, f"{flag} takes {wrong[0]} in {where}; {value!r} is not one", wrong[1]))
    return problems


def _wrong_value(option: Option, value: str) -> tuple[str, str | None] | None:
    """(what the flag takes, a hint) when the engine's type would refuse `value`, else None."""
    if value in option.nones or option.kind in (None, "any"):
        return None
    if option.kind in ("int", "float"):
        try:
            (int if option.kind == "int" else float)(value)
        except ValueError:
            return _KIND_WORDS[option.kind], None
        return None
    if option.kind == "bool":
        word = value.lower() if option.fold else value
        return None if word in option.words else (_KIND_WORDS["bool"], f"write one of {', '.join(option.words)}")
    if option.kind == "choice":
        if option.choices and all(isinstance(c, int) for c in option.choices):
            try:
                return None if int(value) in option.choices else ("one of its values", _choices(option, str(value)))
            except ValueError:
                return "one of its values", _choices(option, value)
        given = value.lower().replace("-", "_") if option.fold else value
        return None if given in option.choices else ("one of its values", _choices(option, value))
    return None


def _choices(option: Option, value: str) -> str:
    names = [str(c) for c in option.choices]
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    listed = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    return (f"did you mean {close[0]}? " if close else "") + f"one of: {listed}"
