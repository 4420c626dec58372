"""One `@app.server` class per `ServerSpec`, the way Modal's LLM-serving examples write it.

`@modal.enter` starts the engine's command and waits for its health route; `@modal.exit` stops it.
With a memory snapshot the start, warm-up and sleep happen before the snapshot (`snap=True`) and
the wake-up after it (`snap=False`). The per-server constants (MODEL_NAME, MODEL_REVISION, N_GPU,
PORT) go at the top of the file and the command refers to them, so a reader changes one line.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.blueprint.model import ServerSpec
from engine.eject.container import EnvParts, Names, container_kwargs
from engine.eject.pysrc import call, py_constant, py_duration, py_str
from engine.engines.registry import get_engine

# Stdlib helpers the server classes call; written once per file, only when there are servers.
HELPERS = '''\
def wait_until_healthy(process: subprocess.Popen, url: str, timeout: int) -> None:
    """Poll `url` until it answers 200; fail fast if the server process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not become healthy within {timeout} seconds")


def post(url: str, body: str = "{}") -> None:
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10 * MINUTES) as response:
        response.read()'''


# Written only when a server needs them, so files that do not keep the helpers above alone.
ANY_ANSWER_HELPER = '''\
def wait_until_answering(process: subprocess.Popen, url: str, timeout: int) -> None:
    """Poll `url` until it answers at all (any HTTP status); fail fast if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before it answered")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {timeout} seconds")'''

WARM_UP_HELPER = '''\
def warm_up(url: str, method: str, body: str, status: int | None, requests: int, fatal: bool) -> None:
    """Send the warm-up requests; each must answer `status` (any 2xx when None). A failure
    raises (the container fails to start) unless not `fatal`: then it is printed."""
    for number in range(1, requests + 1):
        request = urllib.request.Request(
            url, data=body.encode() if body else None, headers={"Content-Type": "application/json"}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=10 * MINUTES) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        except OSError as exc:
            code, problem = None, f"failed: {exc}"
        if code is not None:
            ok = code == status if status is not None else 200 <= code < 300
            problem = None if ok else f"answered {code}"
        if problem is None:
            continue
        if fatal:
            raise RuntimeError(f"warm-up request {number}/{requests} {method} {url} {problem}")
        print(f"warm-up request {number}/{requests} {method} {url} {problem} (not fatal: serving anyway)")'''


def server_helpers(specs: tuple[ServerSpec, ...]) -> str:
    """The helpers the servers of one file call."""
    if not specs:
        return ""
    parts = [HELPERS]
    if any(s.ready_on_any_answer for s in specs):
        parts.append(ANY_ANSWER_HELPER)
    if any(s.warmup is not None and not _plain_warmup(s) for s in specs):
        parts.append(WARM_UP_HELPER)
    return "\n\n\n".join(parts)


def _plain_warmup(spec: ServerSpec) -> bool:
    """A warm-up the `post` helper sends as it is: POSTs whose any 2xx is fine, failing the start."""
    w = spec.warmup
    return w is not None and w.method == "POST" and w.status is None and w.fatal and bool(w.body)


@dataclass(frozen=True)
class ServerConstants:
    """Module-level constant names of one server (prefixed when the file holds several)."""

    MODEL_NAME: str
    MODEL_REVISION: str
    N_GPU: str
    PORT: str


def constants_for(spec: ServerSpec, *, only_server: bool) -> ServerConstants:
    prefix = "" if only_server else f"{py_constant(spec.key)}_"
    return ServerConstants(*(prefix + name for name in ("MODEL_NAME", "MODEL_REVISION", "N_GPU", "PORT")))


def render_server_constants(spec: ServerSpec, names: ServerConstants) -> list[str]:
    lines = [] if spec.kind == "server" else [f"{names.MODEL_NAME} = {py_str(spec.model)}"]
    # The command passes the revision only where the model has one (a hub model, pinned).
    if spec.revision is not None and names.MODEL_REVISION in _constant_positions(spec, names).values():
        lines.append(f"{names.MODEL_REVISION} = {py_str(spec.revision)}  # a pinned commit, never a branch")
    gpu = _single_gpu(spec)
    if gpu is not None:
        lines.append(f"{names.N_GPU} = {gpu[1]}")
    lines.append(f"{names.PORT} = {spec.port}")
    return lines


def render_server(
    spec: ServerSpec, names: Names, constants: ServerConstants, env_parts: dict[str, EnvParts] | None = None
) -> str:
    c = constants
    gpu = _single_gpu(spec)
    gpu_source = f'f"{gpu[0]}:{{{c.N_GPU}}}"' if gpu is not None else None
    kwargs = container_kwargs(spec.container, names, server=True, gpu_source=gpu_source, env_parts=env_parts)
    if spec.name != spec.symbol:
        kwargs.insert(0, ("name", py_str(spec.name)))
    kwargs.append(("port", c.PORT))
    kwargs.append(("startup_timeout", py_duration(spec.startup_timeout)))
    if spec.target_concurrency is not None:
        kwargs.append(("target_concurrency", str(spec.target_concurrency)))
    if spec.max_concurrency is not None:
        kwargs.append(("max_concurrency", str(spec.max_concurrency)))
    if not spec.requires_proxy_auth:
        kwargs.append(("unauthenticated", "True"))
    if spec.routing_region is not None:
        kwargs.append(("routing_region", py_str(spec.routing_region)))
    if spec.exit_grace_period:
        kwargs.append(("exit_grace_period", str(spec.exit_grace_period)))
    if spec.h2_enabled:
        kwargs.append(("h2_enabled", "True"))

    lines = [call("@app.server", [], kwargs)]
    if spec.cluster is not None:
        rdma = ", rdma=True" if spec.cluster.rdma else ""
        lines.append(
            f"@modal.clustered(size={spec.cluster.nodes}{rdma})  # one replica spans {spec.cluster.nodes} nodes"
        )
    lines.append(f"class {spec.symbol}:")
    lines.extend(_start_method(spec, c))
    if spec.snapshot is not None:
        lines += [
            "",
            "    @modal.enter(snap=False)",
            "    def wake_up(self):",
            "        # Restored from the snapshot: give the engine its GPU memory back.",
            f"        post({_url(c, spec.snapshot.wake_path)})",
        ]
    lines += [
        "",
        "    @modal.exit()",
        "    def stop(self):",
        "        self.process.terminate()",
        "        self.process.wait(timeout=30)",
    ]
    return "\n".join(lines)


def _start_method(spec: ServerSpec, c: ServerConstants) -> list[str]:
    snap = spec.snapshot is not None
    lines = [f"    @modal.enter({'snap=True' if snap else ''})", "    def start(self):"]
    lines += ["        cmd = ["] + [f"            {line}," for line in _command_lines(spec, c)] + ["        ]"]
    for arg in spec.secret_args:
        # Read from the secret at start-up so the value never appears in this file.
        lines.append(f"        cmd += [{py_str(arg.flag)}, os.environ[{py_str(arg.env)}]]")
    if spec.cluster is not None:
        lines += _cluster_lines(spec)
    lines += [
        "        self.process = subprocess.Popen(cmd)",
    ]
    wait = "wait_until_answering" if spec.ready_on_any_answer else "wait_until_healthy"
    if spec.cluster is not None:
        lines += ["        if rank != 0:", "            return  # requests reach rank 0 only; it alone serves HTTP"]
    health = f"{wait}(self.process, {_url(c, spec.health_path)}, {py_duration(spec.startup_timeout)})"
    if len(health) + 8 <= 99:
        lines.append("        " + health)
    else:
        lines += [
            f"        {wait}(",
            f"            self.process, {_url(c, spec.health_path)}, {py_duration(spec.startup_timeout)}",
            "        )",
        ]
    w = spec.warmup
    if w is not None and _plain_warmup(spec):
        lines += [
            f"        for _ in range({w.requests}):  # warm up before taking traffic",
            f"            post({_url(c, w.path)}, {py_str(w.body)})",
        ]
    elif w is not None:
        lines += [
            "        warm_up(  # before taking traffic",
            f"            {_url(c, w.path)},",
            f"            {py_str(w.method)},",
            f"            {py_str(w.body)},",
            f"            status={w.status},",
            f"            requests={w.requests},",
            f"            fatal={w.fatal},",
            "        )",
        ]
    if spec.snapshot is not None:
        lines += [
            "        # Free the GPU memory before the snapshot; `wake_up` restores it.",
            f"        post({_url(c, spec.snapshot.sleep_path)})",
        ]
    return lines


def _cluster_lines(spec: ServerSpec) -> list[str]:
    """Each node's rank and rank 0's address (IPv4 where Modal reports it), filled into the
    arguments every node adds; the other ranks add the worker arguments."""
    assert spec.cluster is not None
    filled = [
        "str(rank)"
        if arg == "{rank}"
        else ("leader" if arg == "{leader}" else (f"f{py_str(arg)}" if "{leader}" in arg else py_str(arg)))
        for arg in spec.cluster.rank_args
    ]
    lines = [
        "        cluster = modal.experimental.get_cluster_info()",
        "        rank, leader = cluster.rank, (cluster.container_ipv4_ips or cluster.container_ips)[0]",
        f"        cmd += [{', '.join(filled)}]",
    ]
    if spec.cluster.worker_args:
        lines += [
            "        if rank != 0:",
            f"            cmd += [{', '.join(py_str(a) for a in spec.cluster.worker_args)}]",
        ]
    return lines


def _command_lines(spec: ServerSpec, c: ServerConstants) -> list[str]:
    """The argv, a flag and its value on one line, values that are constants by name."""
    constants = _constant_positions(spec, c)
    sources = [(arg, constants.get(index, py_str(arg))) for index, arg in enumerate(spec.command)]
    lines: list[str] = []
    for i, (arg, source) in enumerate(sources):
        is_value = i > 0 and sources[i - 1][0].startswith("--") and not arg.startswith("-")
        if is_value and lines and lines[-1].startswith('"--') and ", " not in lines[-1]:
            lines[-1] = f"{lines[-1]}, {source}"
        else:
            lines.append(source)
    return lines


def _url(c: ServerConstants, path: str) -> str:
    """Source of the server's local URL for `path`, as an f-string on its port constant."""
    if any(ch in path for ch in '{}"\\'):
        return f'f"http://127.0.0.1:{{{c.PORT}}}" + {py_str(path)}'
    return f'f"http://127.0.0.1:{{{c.PORT}}}{path}"'


def _constant_positions(spec: ServerSpec, c: ServerConstants) -> dict[int, str]:
    """argv index -> the constant's source, for the elements that hold the model, its revision,
    the port or the GPU count: found from the server's fields through the engine's own argv
    builder (the elements that change with the field), never from flag names (reading flags back
    once left TensorRT-LLM's tensor-parallel size a literal "1" beside N_GPU)."""
    if spec.kind == "server":  # the manifest's own command: its ${PORT} elements are the port
        return {i: f"str({c.PORT})" for i, arg in enumerate(spec.command_template) if arg == "${PORT}"}
    # The model's id or path is distinctive text: every element that is it names it.
    positions = {index: c.MODEL_NAME for index, arg in enumerate(spec.command) if arg == spec.model}
    engine = get_engine(spec.engine)
    if engine.command(spec) != spec.command:  # not the engine's own command: the rest as it is
        return positions
    gpu = _single_gpu(spec)
    fields = [
        ("revision", f"{spec.revision}0", c.MODEL_REVISION),
        ("port", spec.port + 1, f"str({c.PORT})"),
    ]
    if gpu is not None and gpu[1] == spec.tensor_parallel_size:
        fields.append(("tensor_parallel_size", spec.tensor_parallel_size + 1, f"str({c.N_GPU})"))
    for name, other, source in fields:
        positions.update(dict.fromkeys(engine.moves_with(spec, name, other), source))
    return positions


def _single_gpu(spec: ServerSpec) -> tuple[str, int] | None:
    """(type, count) when the server asks for one GPU type (no fallback list)."""
    if len(spec.container.gpu) != 1:
        return None
    kind, _, count = spec.container.gpu[0].partition(":")
    return kind, int(count or 1)
