"""How fast `mdeploy validate --all-envs` checks a repository of manifests, beside check-jsonschema.

Generates a repository of realistic manifests (default 500: LLM services on every engine, web
apps, scheduled functions, storage; YAML and TOML; most with a `prod` overlay, some with `staging`
too), then times, each as a whole process (start-up included, as CI pays it):

1. `mdeploy validate DIR`             the base manifests alone;
2. `mdeploy validate --all-envs DIR`  every base, then merged with each of its overlays;
3. `check-jsonschema --schemafile schemas/manifest.schema.json BASES...`  the same base files
   against the exported schema (overlays are partial documents, so the schema cannot check them
   alone; it does no cross-reference, secret or position work either).

The commands alternate, `--repeat` rounds (plus `mdeploy validate DIR` in one process,
MDEPLOY_VALIDATE_WORKERS=1); the best wall time counts. Prints manifests per second for
each, the ratio ours / check-jsonschema on the same base files, and the same ratio in CPU time
(median; mdeploy's worker processes included): `mdeploy validate` checks many manifests in one
worker per core (engine/cli/validate_pool.py), which divides its wall time, not its CPU time.

    .venv/bin/pip install check-jsonschema
    .venv/bin/python benchmarks/validate_throughput.py                # 500 manifests
    .venv/bin/python benchmarks/validate_throughput.py --count 50 --repeat 1   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORKERS_VAR = "MDEPLOY_VALIDATE_WORKERS"  # engine/cli/validate_pool.py
SCHEMA = REPO / "schemas" / "manifest.schema.json"

_MODELS = {
    "vllm": [
        ("meta-llama/Llama-3.1-8B-Instruct", "0e9e39f249a16976918f6564b8830bc894c89659"),
        ("Qwen/Qwen3-8B", "b968826d9c46dd6066d109eabc6255188de91218"),
        ("mistralai/Mistral-7B-Instruct-v0.3", "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"),
    ],
    "sglang": [
        ("Qwen/Qwen3-8B-FP8", "220b46e3b2180893580a4454f21f22d3ebb187d3"),
        ("Qwen/Qwen2.5-7B-Instruct", "a09a35458c702b33eeacc393d103063234e8bc28"),
    ],
    "trtllm": [("meta-llama/Llama-3.1-8B-Instruct", "0e9e39f249a16976918f6564b8830bc894c89659")],
    "transformers": [("HuggingFaceTB/SmolLM2-135M-Instruct", "12fd25f77366fa6b3b4b768ec3050bf629380bac")],
}
_GPUS = ["L4", "A10", "L40S", "A100", "A100-80GB", "H100", "H200"]
_ENGINE_ARGS = {
    "vllm": lambda r: {
        "max_model_len": r.choice([4096, 8192, 16384]),
        "gpu_memory_utilization": r.choice([0.85, 0.9, 0.95]),
        "enable_prefix_caching": r.choice([True, False]),
    },
    "sglang": lambda r: {"context_length": r.choice([4096, 8192]), "mem_fraction_static": 0.85},
    "trtllm": lambda r: {"max_batch_size": r.choice([32, 64]), "max_num_tokens": 8192, "max_seq_len": 8192},
    "transformers": lambda r: {"device": "cpu", "dtype": "float32"},
}


def _llm_service(r: random.Random, engine: str) -> dict:
    model_id, revision = r.choice(_MODELS[engine])
    service = {
        "kind": "llm",
        "engine": engine,
        "model": {"id": model_id, "revision": revision, "served_name": "llm"},
        "secrets": ["huggingface"],
        "engine_args": _ENGINE_ARGS[engine](r),
        "scaling": {
            "min_containers": 0,
            "max_containers": r.randint(1, 8),
            "scaledown_window": r.choice(["2m", "5m", "15m"]),
        },
        "concurrency": {"target": 16, "max": r.choice([32, 64])},
        "startup_timeout": r.choice(["10m", "20m", "30m"]),
        "auth": {"proxy": True},
        "env": {"LOG_LEVEL": r.choice(["info", "debug"])},
    }
    if engine == "transformers":
        service.update(cpu=4, memory="8GiB")
        del service["model"]["served_name"]  # transformers serve answers only to the model's own name
    else:
        service["gpu"] = r.choice(_GPUS)
        if engine == "vllm":
            service["fast_boot"] = r.choice([True, False])
    return service


def _web_service(r: random.Random) -> dict:
    return {
        "kind": "web",
        "app": f"workloads.web{r.randint(1, 9)}:app",
        "interface": r.choice(["asgi", "wsgi"]),
        "image": "base",
        "cpu": r.choice([1, 2]),
        "memory": r.choice(["1GiB", "2GiB", "512MiB"]),
        "concurrency": {"max_inputs": r.choice([20, 50, 100])},
        "scaling": {"max_containers": r.randint(2, 10), "scaledown_window": "2m"},
    }


def _functions(r: random.Random) -> dict:
    functions = {
        "discover": {
            "handler": "workloads.pipeline:discover",
            "schedule": r.choice(
                [
                    {"cron": f"{r.randint(0, 59)} {r.randint(0, 23)} * * *", "timezone": "Europe/Berlin"},
                    {"every": r.choice(["1h", "4h", "30m"])},
                ]
            ),
            "timeout": "10m",
            "retries": r.randint(0, 3),
            "buckets": {"/raw": "raw"},
        },
        "work": {
            "handler": "workloads.pipeline:process",
            "cpu": 2,
            "memory": "4GiB",
            "retries": {"count": 3, "backoff": 2.0, "initial_delay": "2s", "max_delay": "30s"},
            "concurrency": {"max_inputs": 4},
            "volumes": {"/results": "results"},
        },
    }
    if r.random() < 0.5:
        functions["embed"] = {
            "handler": "workloads.embed:run",
            "gpu": r.choice(["T4", "L4", ["L4", "A10"]]),
            "batching": {"max_batch_size": 32, "wait_ms": 100},
        }
    return functions


def _storage(manifest: dict, r: random.Random, app: str) -> None:
    manifest["images"] = {
        "base": {
            "python": "3.12",
            "pip": ["fastapi[standard]==0.115.6", "boto3==1.35.99"],
            "apt": ["git"],
            "env": {"TZ": "UTC"},
        }
    }
    manifest["volumes"] = {"results": {"name": f"{app}-results"}}
    manifest["secrets"] = {"aws": {"name": "aws-pipeline", "required_keys": ["AWS_ACCESS_KEY_ID"]}}
    manifest["buckets"] = {"raw": {"bucket": f"{app}-raw", "secret": "aws", "read_only": True, "key_prefix": "in/"}}
    manifest["dicts"] = {"state": {"name": f"{app}-state"}}
    manifest["queues"] = {"todo": {}}


def generate_manifest(index: int) -> tuple[dict, dict[str, dict]]:
    """Manifest number `index` (deterministic) and its overlays by environment."""
    r = random.Random(index)
    app = f"app-{index:04d}"
    shape = ["vllm", "sglang", "trtllm", "transformers", "web", "functions", "mixed"][index % 7]
    manifest: dict = {"version": 1, "app": app, "description": f"Generated manifest {index} ({shape})."}
    overlays: dict[str, dict] = {}
    if shape in _MODELS:
        manifest["secrets"] = {"huggingface": {"name": "huggingface-secret", "required_keys": ["HF_TOKEN"]}}
        manifest["services"] = {"chat": _llm_service(r, shape)}
        prod = {"services": {"chat": {"scaling": {"min_containers": 1, "max_containers": 10}, "region": "us-east"}}}
        if shape != "transformers":
            prod["services"]["chat"]["gpu"] = r.choice(["H100", "H200"])
        overlays["prod"] = prod
    else:
        _storage(manifest, r, app)
        manifest["defaults"] = {"image": "base", "timeout": "30m", "secrets": ["aws"], "env": {"LOG_LEVEL": "info"}}
        if shape in ("web", "mixed"):
            manifest["services"] = {"api": _web_service(r)}
        if shape in ("functions", "mixed"):
            manifest["functions"] = _functions(r)
        overlays["prod"] = {
            "defaults": {"env": {"LOG_LEVEL": "warning"}},
            **({"services": {"api": {"scaling": {"max_containers": 20}}}} if "services" in manifest else {}),
            **({"functions": {"work": {"scaling": {"max_containers": 50}}}} if "functions" in manifest else {}),
        }
    if r.random() < 0.3:
        overlays["staging"] = {"description": f"Staging of {app}."}
    if r.random() < 0.1:
        overlays.pop("prod")
    return manifest, overlays


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else _toml_value(key)


def to_toml(data: dict, prefix: tuple = ()) -> str:
    """A small TOML writer for generated data: scalars first, then one table per nested mapping."""
    lines, tables = [], []
    for key, value in data.items():
        if isinstance(value, dict) and value and all(not isinstance(k, int) for k in value):
            tables.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    out = ""
    if prefix and lines:
        out += "[" + ".".join(_toml_key(p) for p in prefix) + "]\n"
    out += "".join(line + "\n" for line in lines)
    for key, value in tables:
        out += "\n" + to_toml(value, prefix + (key,))
    return out


def to_yaml(data: dict) -> str:
    from io import StringIO

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    buffer = StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


# The handler modules the manifests name: validation reads them (engine/project/), so a realistic
# repository has them, and a `setup.cfg` marking its root, where they are looked up.
_HANDLERS = {
    "__init__.py": "",
    "pipeline.py": "def discover() -> int:\n    return 0\n\n\ndef process(path: str) -> dict:\n    return {'path': path}\n",
    "embed.py": "def run(texts: list[str]) -> list[list[float]]:\n    return [[0.0] for _ in texts]\n",
    **{f"web{i}.py": "from fastapi import FastAPI\n\napp = FastAPI()\n" for i in range(1, 10)},
}


def write_repository(root: Path, count: int) -> list[Path]:
    """Write `count` manifests with their overlays under `root` (in folders of 50), and the
    handler package they name; the bases."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "setup.cfg").write_text("")
    (root / "workloads").mkdir(parents=True, exist_ok=True)
    for name, text in _HANDLERS.items():
        (root / "workloads" / name).write_text(text)
    bases = []
    for index in range(count):
        manifest, overlays = generate_manifest(index)
        folder = root / f"team-{index // 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        as_toml = index % 5 == 4
        ext, render = (".toml", to_toml) if as_toml else (".yaml", to_yaml)
        name = f"{manifest['app']}"
        header = "#:schema ../schema.json\n" if as_toml else "# yaml-language-server: $schema=../schema.json\n"
        base = folder / f"{name}{ext}"
        base.write_text(header + render(manifest))
        bases.append(base)
        for env, overlay in overlays.items():
            (folder / f"{name}.{env}{ext}").write_text(render(overlay))
    return bases


def _run_once(command: list[str], env: dict | None, cwd: Path) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall time and CPU time (user + system, the process and its workers) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500, help="manifests to generate (default 500)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the best counts (default 3)")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it")
    args = parser.parse_args(argv)

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mdeploy-bench-"))
    try:
        bases = write_repository(root, args.count)
        overlays = sum(1 for p in root.rglob("team-*/*") if p.is_file()) - len(bases)
        checks = len(bases) + overlays
        bin_dir = Path(sys.executable).parent
        mdeploy = [sys.executable, "-m", "engine", "validate"]
        one_process = {**os.environ, WORKERS_VAR: "1"}
        runs = {
            "mdeploy validate (bases)": (mdeploy + [str(root)], len(bases), None),
            "mdeploy validate, one process": (mdeploy + [str(root)], len(bases), one_process),
            "mdeploy validate --all-envs": (mdeploy + ["--all-envs", str(root)], checks, None),
        }
        checker = shutil.which("check-jsonschema", path=str(bin_dir)) or shutil.which("check-jsonschema")
        if checker:
            runs["check-jsonschema (bases)"] = (
                [checker, "--schemafile", str(SCHEMA), *map(str, bases)],
                len(bases),
                None,
            )
        else:
            print("check-jsonschema is not installed: pip install check-jsonschema", file=sys.stderr)

        print(f"{len(bases)} manifests, {overlays} overlays ({checks} manifest x environment checks)")
        print(f"python {sys.version.split()[0]}, best of {args.repeat}")
        # The commands alternate, round after round, so a change in the machine's load touches
        # all of them alike; the best wall time and the median CPU time of each count.
        walls: dict[str, list[float]] = {label: [] for label in runs}
        cpus: dict[str, list[float]] = {label: [] for label in runs}
        for _ in range(args.repeat):
            for label, (command, _units, env) in runs.items():
                wall, spent, result = _run_once(command, env, REPO)
                if result.returncode != 0:
                    print(
                        f"{label}: exit {result.returncode}\n{result.stdout[-2000:]}{result.stderr[-2000:]}",
                        file=sys.stderr,
                    )
                    return 1
                walls[label].append(wall)
                cpus[label].append(spent)
        rates, cpu = {}, {}
        for label, (_command, units, _env) in runs.items():
            seconds, cpu[label] = min(walls[label]), statistics.median(cpus[label])
            rates[label] = units / seconds
            print(
                f"{label:32s} {units:5d} checks  {seconds:7.2f} s  {rates[label]:8.1f} manifests/s"
                f"  (CPU {cpu[label]:.2f} s, median)"
            )
        if "check-jsonschema (bases)" in rates:
            ratio = rates["mdeploy validate (bases)"] / rates["check-jsonschema (bases)"]
            cpu_ratio = cpu["check-jsonschema (bases)"] / cpu["mdeploy validate (bases)"]
            print(f"ratio mdeploy / check-jsonschema on the same base files: {ratio:.2f}x")
            print(f"ratio of CPU time (check-jsonschema / mdeploy, all processes): {cpu_ratio:.2f}x")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
