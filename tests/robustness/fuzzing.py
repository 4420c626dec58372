"""The fuzz harness shared by the bounded pass in the suite and the long run (fuzz_long.py).

Inputs are random bytes and mutated shipped manifests (byte flips, line deletions and
duplications, indentation changes, token splices), YAML and TOML. Each goes through the public
entry point, `engine.manifest.validate.load_manifest`, in a worker process that runs under an
address-space limit; the only outcomes allowed are a Manifest, or a ManifestError / UserError
whose every problem is located (line >= 1, col >= 1, in the file given), within TIME_LIMIT_S seconds of CPU time.

Run as a script, this file is the worker: `python fuzzing.py worker LIST MEMORY_BYTES` checks the
files named in LIST (one per line) and prints one JSON line per file, each preceded by a `start`
line, so a worker that dies (memory, hang) still names the input it died on.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
# CPU seconds one input may take. CPU time, not wall time: the suite runs on loaded 2-core CI
# machines, where a wall-clock bound of 2 s failed on a fresh clone. The slowest hostile input
# (deep nesting, 1 MiB lines) costs well under a second of CPU; 10 s leaves a wide margin.
TIME_LIMIT_S = 10.0
MEMORY_LIMIT_BYTES = 2 * 1024**3

# Fragments that change YAML/TOML structure when spliced in.
TOKENS = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    ",",
    "- ",
    "? ",
    "&a ",
    "*a",
    "!!str ",
    "!!int ",
    "!x ",
    "|",
    ">",
    "'",
    '"',
    "#",
    "%",
    "@",
    "`",
    "\t",
    "\n",
    "\r",
    " ",
    "  ",
    "=",
    ".",
    "${",
    "${HOME}",
    "$$",
    "<<: ",
    "---\n",
    "...\n",
    "null",
    "~",
    "true",
    "yes",
    "0x1F",
    "0o17",
    "1e3",
    ".inf",
    ".nan",
    "3.10",
    "2024-01-01",
    "22:22",
    "[[x]]\n",
    "[x]\n",
    "a = ",
    '"""',
    "'''",
    "\\u0000",
    "\\",
    "\x00",
    "\x85",
    "\u2028",
    "\ufeff",
    "é",
    "🙂",
    "hf_" + "a" * 34,
    "A" * 300,
    "[" * 80,
    "{a: " * 70,
    "- " * 70,
]


def shipped_manifests() -> list[Path]:
    """Every manifest the project ships or tests with (the seeds that mutations start from)."""
    folders = [
        REPO / "manifests",
        REPO / "tests" / "blueprint" / "data",
        REPO / "tests" / "manifest" / "data" / "valid",
    ]
    return sorted(p for folder in folders for p in folder.iterdir() if p.suffix in (".yaml", ".toml"))


def _mutate_once(text: str, rng: random.Random) -> str:
    lines = text.splitlines(keepends=True) or [""]
    choice = rng.randrange(7)
    index = rng.randrange(len(lines))
    if choice == 0:  # flip a byte (kept as text: a flipped byte that breaks UTF-8 is still a test)
        raw = bytearray(text.encode("utf-8", "surrogatepass"))
        if raw:
            raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        return raw.decode("utf-8", "surrogateescape")
    if choice == 1:  # delete a line
        del lines[index]
    elif choice == 2:  # duplicate a line
        lines.insert(index, lines[index])
    elif choice == 3:  # indent or dedent a line
        line = lines[index]
        lines[index] = (
            line[rng.choice([1, 2, 4]) :]
            if line.startswith("  ") and rng.random() < 0.5
            else " " * rng.choice([1, 2, 4]) + line
        )
    elif choice == 4:  # splice a token in
        at = rng.randrange(len(text) + 1)
        return text[:at] + rng.choice(TOKENS) + text[at:]
    elif choice == 5:  # move a line elsewhere
        line = lines.pop(index)
        lines.insert(rng.randrange(len(lines) + 1), line)
    else:  # cut the text short
        return text[: rng.randrange(len(text) + 1)]
    return "".join(lines)


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.choice([1, 1, 2, 3, 5])):
        text = _mutate_once(text, rng)
    return text


def random_bytes(rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
    # Mostly-printable soup of structural tokens: gets past the decoder far more often.
    return "".join(rng.choice(TOKENS) for _ in range(rng.randrange(1, 60))).encode("utf-8", "surrogateescape")


def write_inputs(folder: Path, count: int, seed: int) -> list[Path]:
    """`count` fuzz inputs under `folder`: three quarters mutated manifests, the rest random bytes."""
    rng = random.Random(seed)
    seeds = shipped_manifests()
    texts = {p: p.read_text() for p in seeds}
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for number in range(count):
        if rng.random() < 0.75:
            source = rng.choice(seeds)
            data = mutate(texts[source], rng).encode("utf-8", "surrogateescape")
            suffix = source.suffix
        else:
            data = random_bytes(rng)
            suffix = rng.choice([".yaml", ".toml"])
        path = folder / f"input-{seed}-{number:05d}{suffix}"
        path.write_bytes(data)
        written.append(path)
    return written


def problems_are_located(problems, files: set[str], text: str) -> str | None:
    """None when every problem has a location in `files` with line >= 1 and col >= 1, else why not."""
    last_line = len(text.splitlines()) + 1  # YAML also breaks lines at \r (and TOML errors may point past the end)
    for problem in problems:
        where = problem.location
        if where is None:
            return f"unlocated problem: {problem.format()}"
        if where.file not in files or where.line < 1 or where.col < 1 or where.line > last_line + 1:
            return f"bad location {where} for: {problem.format()}"
    return None


def check_file(path: Path) -> dict:
    """Load `path` through the public entry point; the outcome as a JSON-able dict."""
    from engine.errors import UserError
    from engine.manifest.errors import ManifestError
    from engine.manifest.validate import load_manifest

    text = path.read_bytes().decode("utf-8", "replace")
    display = path.as_posix()
    start = time.process_time()
    outcome, detail = "ok", ""
    try:
        load_manifest(path, None, environ={"HOME": "/root"})
    except ManifestError as exc:
        outcome = "manifest-error"
        detail = problems_are_located(exc.problems, {display}, text) or ""
        if detail:
            outcome = "crash"
    except UserError:
        outcome = "user-error"
    except BaseException as exc:  # noqa: BLE001 - anything else is what the fuzzer looks for
        outcome, detail = "crash", f"{type(exc).__name__}: {str(exc)[:300]}"
    seconds = time.process_time() - start
    if outcome != "crash" and seconds > TIME_LIMIT_S:
        outcome, detail = "crash", f"took {seconds:.2f} s of CPU (limit {TIME_LIMIT_S} s)"
    return {"file": display, "outcome": outcome, "detail": detail, "seconds": round(seconds, 4)}


def run_worker(paths: list[Path], timeout: float, memory: int = MEMORY_LIMIT_BYTES) -> tuple[list[dict], dict | None]:
    """Check `paths` in a worker process; (results, failure) where failure names the input the
    worker died or hung on, if it did."""
    listing = paths[0].parent / f".worker-list-{os.getpid()}-{time.monotonic_ns()}"
    listing.write_text("\n".join(str(p) for p in paths))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("MODAL_ENVIRONMENT", None)
    try:
        proc = subprocess.run(
            [sys.executable, __file__, "worker", str(listing), str(memory)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=REPO,
        )
        out, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), "timeout"
    finally:
        listing.unlink(missing_ok=True)
    results, started = [], None
    for line in out.splitlines():
        record = json.loads(line)
        if "start" in record:
            started = record["start"]
        else:
            results.append(record)
            started = None
    failure = None
    if code != 0 or started is not None:
        failure = {"file": started, "outcome": "crash", "detail": f"worker ended with {code} while checking it"}
    return results, failure


def save_regression(path: Path) -> Path:
    """Copy a crashing input into regressions/ (named by content, so a repeat is not saved twice)."""
    import hashlib

    data = path.read_bytes()
    REGRESSIONS.mkdir(exist_ok=True)
    target = REGRESSIONS / f"crash-{hashlib.sha256(data).hexdigest()[:16]}{path.suffix}"
    target.write_bytes(data)
    return target


def yaml_paths_disagree(text: str) -> str | None:
    """None when the libyaml fast path and the pure parser build the same Layer (or the same
    error) from `text`, else a description of the difference (see engine/manifest/yaml_events.py)."""
    import engine.manifest.yaml_reader as reader
    from engine.manifest import yaml_events
    from engine.manifest.errors import ManifestError

    def outcome() -> tuple:
        try:
            layer = reader.parse_yaml(text, "f.yaml")
        except ManifestError as exc:
            return ("error", exc.format())
        return (
            "ok",
            repr(layer.data),
            repr(sorted(layer.spans.items(), key=repr)),
            repr(
                sorted(layer.plain_scalars.items(), key=repr)
                if isinstance(layer.plain_scalars, dict)
                else sorted(layer.plain_scalars, key=repr)
            ),
        )

    fast = outcome()
    reader.yaml_events = yaml_events.pure_events
    try:
        pure = outcome()
    finally:
        reader.yaml_events = yaml_events.yaml_events
    if fast == pure:
        return None
    return f"libyaml path: {str(fast)[:300]}\npure path:    {str(pure)[:300]}"


def _worker(listing: str, memory: int) -> int:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    sys.setrecursionlimit(1000)  # the default; a loader that recursed per nesting level would hit it
    import engine.manifest.validate  # noqa: F401 - imported before the clock starts for the first input

    for name in Path(listing).read_text().splitlines():
        print(json.dumps({"start": name}), flush=True)
        print(json.dumps(check_file(Path(name))), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "worker":
        sys.exit(_worker(sys.argv[2], int(sys.argv[3])))
    print(__doc__)
    sys.exit(2)
