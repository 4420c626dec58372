"""The Hugging Face Hub as this machine sees it: where downloads are cached, whether the Hub is
reachable within a short bound, and whether the user asked for offline mode.

huggingface_hub reads its settings from the process environment when it is imported; these
functions read them from the mapping given (an engine's environment, which mdeploy builds), with
the library's own precedence. Nothing here waits longer than `PROBE_TIMEOUT`: an offline machine
must hear about it at once, not after huggingface_hub's minutes of retries.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT = 3.0  # long enough for any working connection to open
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def endpoint(env: Mapping[str, str]) -> str:
    return (env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def cache_folder(env: Mapping[str, str]) -> Path:
    """Where huggingface_hub keeps downloads: HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub."""
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"])
    home = env.get("HF_HOME") or os.path.join(
        env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    return Path(home) / "hub"


def offline(env: Mapping[str, str]) -> bool:
    """HF_HUB_OFFLINE is set to a true value, as huggingface_hub reads it."""
    return env.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "on", "true", "yes")


def unreachable(url: str) -> str | None:
    """None when a TCP connection to `url`'s host opens within the bound, else why not."""
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT):
            return None
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        return f"the Hub at {url} is not reachable ({reason})"


def is_cached(repo_id: str, revision: str, cache: Path) -> bool:
    """The model's config.json at `revision` is in the cache (what an engine reads first)."""
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(repo_id, "config.json", cache_dir=cache, revision=revision), str)


def cached_main_commit(repo_id: str, cache: Path) -> str | None:
    """The commit `main` pointed at when the model was last downloaded here, if it was."""
    ref = cache / f"models--{repo_id.replace('/', '--')}" / "refs" / "main"
    try:
        commit = ref.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return commit if _COMMIT.match(commit) else None
