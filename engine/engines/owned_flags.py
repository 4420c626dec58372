"""Flags the planner sets itself, and how to find them again in a service's `extra_args`.

The planner writes some of an engine's flags from manifest keys (`--port` from `port`, the
tensor-parallel size from the GPU count, ...). The same flag in `engine_args.extra_args` would
reach the engine twice, and the engine takes the last: the server would listen on another port
than the one the health check watches, split the model differently from the GPUs it asked for,
and so on, while the plan shows the planner's value. So each engine module declares those flags
with every spelling its parser accepts, and the planner refuses them in extra_args, pointing at
the key to set instead.

Spellings of flags live only in the engine modules; this module only knows how parsers read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


def _always(_params: Any) -> bool:
    return True


@dataclass(frozen=True)
class OwnedFlag:
    """A flag the planner sets, under every spelling the engine accepts (long names, aliases,
    `--no-` forms, single-dash short forms such as `-tp`).

    `key` is the manifest key under the service that decides it ("port", "engine_args.dtype"), or
    None when mdeploy decides it alone; `instead` then says why it cannot be changed. `applies`
    says whether the planner sets the flag for these launch parameters (some flags are written
    only for some settings).
    """

    spellings: tuple[str, ...]
    key: str | None
    instead: str | None = None
    applies: Callable[[Any], bool] = _always

    def hint(self, service: str) -> str:
        if self.key is not None:
            return f"set services.{service}.{self.key} instead, and remove it from extra_args"
        return f"remove it from extra_args: {self.instead}"


@dataclass(frozen=True)
class FlagSyntax:
    """How an engine's command-line parser reads a flag.

    underscores_are_dashes: vLLM reads `--max_model_len` as `--max-model-len`.
    abbreviations: argparse (vLLM, SGLang) takes any unambiguous prefix of a long flag for the
      flag (`--tp` is SGLang's `--tp-size`); click (trtllm-serve) and typer do not.
    dotted_keys: vLLM reads `--compilation-config.mode 3` as one key of the JSON value of
      `--compilation-config`.
    short_rewrites: single-dash spellings the engine rewrites before its parser sees them, with
      the value attached (vLLM: `-O3` and `-O=3` are `--optimization-level 3`).
    """

    underscores_are_dashes: bool = False
    abbreviations: bool = False
    dotted_keys: bool = False
    short_rewrites: tuple[tuple[str, str], ...] = ()


def flag_name(arg: str) -> str | None:
    """The flag an argument names (`--port=9000` -> `--port`), or None for a value."""
    if not arg.startswith("-") or arg == "-" or arg == "--" or arg[1:2].isdigit():
        return None
    return arg.split("=", 1)[0]


def find_owned_flag(arg: str, owned: Iterable[OwnedFlag], syntax: FlagSyntax, params: Any) -> OwnedFlag | None:
    """The owned flag `arg` would set (for these launch parameters), or None."""
    name = flag_name(arg)
    if name is None:
        return None
    for flag in owned:
        if flag.applies(params) and any(_matches(arg, name, spelling, syntax) for spelling in flag.spellings):
            return flag
    return None


def _matches(arg: str, name: str, spelling: str, syntax: FlagSyntax) -> bool:
    if not spelling.startswith("--"):
        # A single-dash short form also takes its value attached: `-tp4`, `-tp=4`, `-qfp8`.
        return arg.startswith(spelling)
    if not name.startswith("--"):
        return False
    if syntax.underscores_are_dashes:
        name, spelling = name.replace("_", "-"), spelling.replace("_", "-")
    if name == spelling:
        return True
    # An abbreviation that another flag also starts with is an error for argparse anyway;
    # refusing it here only says so earlier.
    return syntax.abbreviations and len(name) > len("--") + 1 and spelling.startswith(name)


def option_flags(options: Iterable[Any]) -> tuple[OwnedFlag, ...]:
    """The flags an engine's `OptionFlag` table writes from `engine_args` keys."""
    return tuple(OwnedFlag((o.flag, *((o.negative,) if o.negative else ())), f"engine_args.{o.key}") for o in options)
