"""An engine's flag spellings live in its module under engine/engines/ and nowhere else.

Everything else reads a server's fields (ServerSpec.revision, .port, .context_length, ...) and, to
run a command, asks the engine's argv builder: a second table of flags elsewhere is how an ejected
TensorRT-LLM app once got `N_GPU = 4` beside `--tp_size 1`. The spellings are read from the
engines themselves, so a flag an engine learns is guarded here without editing this test.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from engine.cli.main import COMMANDS, build_parser
from engine.engines.registry import ENGINES

REPO = Path(__file__).resolve().parents[2]
ENGINE_PACKAGE = REPO / "engine"
ENGINES_FOLDER = ENGINE_PACKAGE / "engines"
# Modules that name mdeploy's own command-line options, some of which are spelled like an
# engine's (`mdeploy serve --host/--port`, `mdeploy bench --model`), or uvicorn's, which
# `mdeploy serve` starts web services with, or huggingface_hub's `hf download --revision`, which
# `mdeploy run` tells a user to fill an empty model folder with: there, and only there, such a
# shared spelling is not an engine's flag.
OWN_OPTIONS_NAMED_IN = {
    "engine/cli",  # the parsers
    "engine/bench/target.py",  # "pass --model NAME"
    "engine/local/ports.py",  # "pass --port"
    "engine/local/launch.py",  # uvicorn's --host/--port for web services; "drop --port"
    "engine/local/demo.py",  # "mdeploy serve ... --port N", the command each step names
    "engine/local/run_models.py",  # "fetch it with `hf download REPO --revision REV`"
    "engine/init",  # `mdeploy init --model/--model-path/--revision`, named in its messages
}


def _mdeploy_options() -> set[str]:
    """Every option string of every mdeploy command, read from its argparse parser."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            found.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)

    for name in COMMANDS:
        walk(build_parser([name])[0])
    return found


def _exempt(path: Path, spelling: str, own: set[str]) -> bool:
    relative = path.relative_to(REPO).as_posix()
    named = any(relative == place or relative.startswith(place + "/") for place in OWN_OPTIONS_NAMED_IN)
    return named and spelling in own


def _spellings() -> dict[str, set[str]]:
    """flag spelling -> the engines that know it."""
    found: dict[str, set[str]] = {}
    for name, engine in ENGINES.items():
        for spelling in engine.all_flag_spellings():
            found.setdefault(spelling, set()).add(name)
    return found


def _occurrences(text: str, spelling: str) -> list[int]:
    """Line numbers where `spelling` appears as a whole flag (not inside a longer one)."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(spelling)}(?![\w-])")
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


def test_the_engines_know_the_flags_this_test_looks_for():
    spellings = _spellings()
    # One flag of each kind the issue named, each known to the engine whose module writes it.
    assert {"vllm"} <= spellings["--tensor-parallel-size"] and {"trtllm"} <= spellings["--tp_size"]
    assert {"sglang"} <= spellings["--tp"] and {"vllm"} <= spellings["--max-model-len"]
    assert {"vllm", "sglang"} <= spellings["--served-model-name"] and spellings["--port"] == set(ENGINES)
    assert {"vllm"} <= spellings["--gpu-memory-utilization"] and {"vllm", "sglang"} <= spellings["--quantization"]


def test_no_module_outside_the_engines_spells_an_engine_flag():
    spellings, own = _spellings(), _mdeploy_options()
    found = []
    for path in sorted(ENGINE_PACKAGE.rglob("*")):
        if not path.is_file() or ENGINES_FOLDER in path.parents or path.suffix not in (".py", ".json", ".txt", ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        for spelling, engines in spellings.items():
            if _exempt(path, spelling, own):
                continue
            for line in _occurrences(text, spelling):
                found.append(f"{path.relative_to(REPO)}:{line}: {spelling} ({', '.join(sorted(engines))})")
    assert found == []


def test_the_exemption_covers_only_mdeploys_own_options():
    own = _mdeploy_options()
    assert {"--host", "--port", "--model"} <= own
    # (`--revision` is mdeploy init's own as well as the engines'.)
    assert not {"--tp_size", "--max-model-len", "--served-model-name", "--tensor-parallel-size"} & own


def test_the_scan_finds_a_spelling_where_it_is_written():
    assert _occurrences('x = ["--tp_size", n]\n# --port=9000\n', "--tp_size") == [1]
    assert _occurrences("# --port=9000\n", "--port") == [1]
    assert _occurrences("--max-model-len-x --portal", "--port") == []
