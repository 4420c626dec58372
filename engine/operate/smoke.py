"""The smoke check after a deploy: is every LLM service and web endpoint answering through Modal?

Per object, against the URL Modal reports for it (`modal server|function info`):

- an LLM server: GET its health path (200 expected), then one real request, a one-token chat
  completion for its served model name (200 with a `choices` list expected);
- a web endpoint: one GET of `/` (a web app has no health path in the manifest); any answer
  below 500 other than 401/403 counts, since an app may well answer 404 or 405 at its root: what
  is checked is that Modal routes to a container that runs the app.

With proxy auth on, requests carry `Modal-Key` / `Modal-Secret` from MDEPLOY_PROXY_TOKEN_ID /
MDEPLOY_PROXY_TOKEN_SECRET (a proxy auth token of the workspace); a server whose API key comes
from a secret gets `Authorization: Bearer $<its api_key_env>` from the caller's environment.
Nothing here prints a header, a body or any value from the environment: only statuses, latencies
and the names of the variables that are missing.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from engine.operate.names import ModalObject

PROXY_KEY_ENV = "MDEPLOY_PROXY_TOKEN_ID"
PROXY_SECRET_ENV = "MDEPLOY_PROXY_TOKEN_SECRET"
# A first request may wait for a cold start; a server's own startup timeout bounds that.
COLD_START_MARGIN = 60
WEB_TIMEOUT = 300
CHAT_TIMEOUT = 120
CHAT_PATH = "/v1/chat/completions"
PARALLEL_CHECKS = 8


@dataclass(frozen=True)
class Step:
    request: str  # "GET /health"
    status: int | None  # None: no HTTP answer at all
    latency_ms: int
    ok: bool
    detail: str = ""

    def describe(self) -> str:
        answer = str(self.status) if self.status is not None else "no answer"
        text = f"{self.request} {answer} ({self.latency_ms} ms)"
        return f"{text}: {self.detail}" if self.detail else text


@dataclass(frozen=True)
class SmokeResult:
    obj: ModalObject
    url: str | None
    steps: tuple[Step, ...]
    problem: str | None = None  # why nothing was sent

    @property
    def ok(self) -> bool:
        return self.problem is None and bool(self.steps) and all(s.ok for s in self.steps)

    def describe(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        detail = self.problem or "; ".join(s.describe() for s in self.steps)
        return f"{self.obj.label}: {verdict}: {detail}"


def planned_requests(obj: ModalObject) -> list[str]:
    """What a check of `obj` sends, for a dry run."""
    if obj.web == "llm":
        return [f"GET {obj.health_path}", f"POST {CHAT_PATH}"]
    if obj.web == "server":
        return [f"GET {obj.health_path}"]
    return ["GET /"]


def check_all(targets: list[tuple[ModalObject, str | None, int]], environ: Mapping[str, str]) -> list[SmokeResult]:
    """Check every (object, url, startup timeout) at once; results in the same order."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=PARALLEL_CHECKS) as pool:
        return list(pool.map(lambda t: check(t[0], t[1], environ, startup_timeout=t[2]), targets))


def check(obj: ModalObject, url: str | None, environ: Mapping[str, str], *, startup_timeout: int = 0) -> SmokeResult:
    if not url:
        return SmokeResult(obj, url, (), problem=f"Modal reported no URL for {obj.ref}")
    headers, problem = _headers(obj, environ)
    if problem:
        return SmokeResult(obj, url, (), problem=problem)
    base = url.rstrip("/")
    first_timeout = (startup_timeout if obj.web in ("llm", "server") else WEB_TIMEOUT) + COLD_START_MARGIN
    if obj.web == "server":  # a `kind: server` speaks no known API: its health path is the check
        judge = _web_ok if obj.ready_on_any_answer else _status_200
        step = _request("GET", base, obj.health_path or "/health", None, headers, first_timeout, judge)
        return SmokeResult(obj, url, (step,))
    if obj.web != "llm":
        step = _request("GET", base, "/", None, headers, first_timeout, _web_ok)
        return SmokeResult(obj, url, (step,))
    health = _request("GET", base, obj.health_path or "/health", None, headers, first_timeout, _status_200)
    if not health.ok:
        return SmokeResult(obj, url, (health,))
    body = {
        "model": obj.served_model_name,
        "messages": [{"role": "user", "content": "Reply with OK."}],
        "max_tokens": 1,
    }
    chat = _request("POST", base, CHAT_PATH, json.dumps(body).encode(), headers, CHAT_TIMEOUT, _chat_ok)
    return SmokeResult(obj, url, (health, chat))


def _headers(obj: ModalObject, environ: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    headers = {"User-Agent": "mdeploy-smoke"}
    if obj.requires_proxy_auth:
        key, secret = environ.get(PROXY_KEY_ENV), environ.get(PROXY_SECRET_ENV)
        if not (key and secret):
            return headers, f"proxy auth is on: set {PROXY_KEY_ENV} and {PROXY_SECRET_ENV} to a proxy auth token"
        headers.update({"Modal-Key": key, "Modal-Secret": secret})
    if obj.api_key_env and environ.get(obj.api_key_env):
        headers["Authorization"] = f"Bearer {environ[obj.api_key_env]}"
    return headers, None


def _request(
    method: str,
    base: str,
    path: str,
    body: bytes | None,
    headers: Mapping[str, str],
    timeout: float,
    judge: Callable[[int, bytes], tuple[bool, str]],
) -> Step:
    request = urllib.request.Request(base + path, data=body, method=method, headers=dict(headers))
    if body is not None:
        request.add_header("Content-Type", "application/json")
    shown = f"{method} {path}"
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, payload = response.status, response.read(1 << 20)
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, b""
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        return Step(shown, None, _ms(started), False, f"{type(reason).__name__}: {reason}")
    ok, detail = judge(status, payload)
    return Step(shown, status, _ms(started), ok, detail)


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def _status_200(status: int, _payload: bytes) -> tuple[bool, str]:
    return status == 200, "" if status == 200 else "expected 200"


def _web_ok(status: int, _payload: bytes) -> tuple[bool, str]:
    if status in (401, 403):
        return False, "refused: check proxy auth"
    return status < 500, "" if status < 500 else "server error"


def _chat_ok(status: int, payload: bytes) -> tuple[bool, str]:
    if status != 200:
        return False, "expected 200"
    try:
        choices = json.loads(payload).get("choices")
    except (ValueError, AttributeError):
        return False, "the reply is not a JSON object"
    return (True, "") if isinstance(choices, list) and choices else (False, "no `choices` in the reply")
