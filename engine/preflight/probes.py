"""The two windows onto the world preflight looks through: Modal and the Hugging Face Hub.

Checks receive these as arguments (tests pass fakes), so nothing in `checks.py` does I/O itself.
A probe that cannot be used at all says why with `Unavailable`, and every check that needs it
is reported as skipped with that reason instead of failing.

`LiveModal` asks through Modal's own client, by name in the deploy's environment: a secret
(`Secret.from_name(...).hydrate()`), a volume (`Volume.from_name(...).hydrate()`) and what a
volume holds in one folder (`Volume.listdir(folder)`, one VolumeListFiles(2) stream of that
folder's entries, not recursive), which says whether a model's pinned snapshot is cached
(cache_checks.py). Its server may be a `unix://` socket (the tests' fake control plane).
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any, Protocol


class Unavailable(Exception):
    """A probe cannot answer (no credentials, no network); `reason` is one line for the report."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotOnHub(Exception):
    """The model or its revision does not exist on the Hub (or is not visible with this token)."""


class ModalProbe(Protocol):
    def secret_problem(self, name: str, environment: str, required_keys: tuple[str, ...]) -> str | None:
        """None when the secret exists with every required key, else what is wrong."""

    def volume_exists(self, name: str, environment: str) -> bool: ...

    def folder_entries(self, name: str, environment: str, folder: str) -> tuple[str, ...] | None:
        """The names directly in `folder` of volume `name` (() when the folder is absent or
        empty), or None when the volume does not exist."""


class HubProbe(Protocol):
    def check_revision(self, model: str, revision: str | None) -> None:
        """Raise NotOnHub when the model or revision does not exist."""

    def config(self, model: str, revision: str | None) -> dict[str, Any]: ...

    def parameter_count(self, model: str, revision: str | None) -> int | None:
        """Parameters of the safetensors weights, or None when the repository has no metadata."""

    def size(self, model: str, revision: str | None, patterns: tuple[str, ...]) -> int | None:
        """Bytes of the files matching `patterns` (all when empty), or None when the Hub does not say."""

    def files(self, model: str, revision: str | None, patterns: tuple[str, ...]) -> tuple[str, ...]:
        """Paths in the repository (at the revision) of the files matching `patterns` (all when empty)."""


@contextlib.contextmanager
def _network_errors_as_unavailable(service: str) -> Iterator[None]:
    """Transport and auth failures mean "cannot check", not "check failed"."""
    transport: tuple[type[BaseException], ...] = (OSError, TimeoutError)
    try:
        import httpx

        transport += (httpx.TransportError,)
    except ImportError:
        pass
    try:
        from modal.exception import AuthError
        from modal.exception import ConnectionError as ModalConnectionError

        transport += (AuthError, ModalConnectionError)
    except ImportError:
        pass
    # The Hub's "no such repository/revision" errors are OSErrors too, yet they are answers.
    answers: tuple[type[BaseException], ...] = ()
    try:
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        answers = (RepositoryNotFoundError, RevisionNotFoundError)
    except ImportError:
        pass
    try:
        yield
    except answers:
        raise
    except transport as exc:
        raise Unavailable(f"{service} did not answer: {type(exc).__name__}: {exc}") from None


def _reachable(host: str, port: int = 443, timeout: float = 3.0) -> str | None:
    """None when a TCP connection opens, else why not (so offline runs skip fast, not hang)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host} is not reachable ({exc.strerror or type(exc).__name__})"


def _modal_config() -> Any:  # modal.config._Setting-backed mapping; modal ships no stub for it
    """modal.config.config; a config file Modal cannot read is a UserError. Modal reads it when
    it is first imported and, failing, prints a "Modal installation seems broken" banner to
    stdout before raising: the banner is swallowed, the reason kept."""
    import io

    from engine.errors import UserError

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            import modal.config
    except Exception as exc:  # noqa: BLE001 - whatever modal raised, its message says why
        raise UserError(f"the Modal client cannot start: {' '.join(str(exc).split())}") from None
    return modal.config.config


def _socket_reachable(path: str, timeout: float = 3.0) -> str | None:
    """None when the unix socket at `path` accepts a connection, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            connection.connect(path)
            return None
    except OSError as exc:
        return f"{path} is not reachable ({exc.strerror or type(exc).__name__})"


def server_hosts(server_url: str) -> list[str]:
    """Host names of Modal's `server_url`, which may list fallback URLs separated by commas
    (a `unix://PATH` URL has no host: see `server_sockets`)."""
    hosts = []
    for url in server_url.split(","):
        if url.strip().startswith("unix://"):
            continue
        host = url.strip().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if host:
            hosts.append(host)
    return hosts


def server_sockets(server_url: str) -> list[str]:
    """The socket paths of the `unix://PATH` URLs in Modal's `server_url` (grpclib's form)."""
    return [url.strip().removeprefix("unix://") for url in server_url.split(",") if url.strip().startswith("unix://")]


def _any_reachable(server_url: str) -> str | None:
    """None when one of the servers answers (Modal's client fails over between them), else why not."""
    problems = []
    for probe, where in [(_socket_reachable, p) for p in server_sockets(server_url)] + [
        (_reachable, h) for h in server_hosts(server_url)
    ]:
        problem = probe(where)
        if problem is None:
            return None
        problems.append(problem)
    return "; ".join(problems) or "no Modal server configured"


class LiveModal:
    """Modal through its client: `from_name(...).hydrate()` looks a named object up by name."""

    def __init__(self) -> None:
        config = _modal_config()
        if not (config.get("token_id") and config.get("token_secret")):
            raise Unavailable("no Modal credentials (set MODAL_TOKEN_ID/MODAL_TOKEN_SECRET or run `modal setup`)")
        problem = _any_reachable(str(config.get("server_url") or "https://api.modal.com"))
        if problem:
            raise Unavailable(f"no network: {problem}")

    def secret_problem(self, name: str, environment: str, required_keys: tuple[str, ...]) -> str | None:
        import modal
        from modal.exception import NotFoundError

        try:
            # Modal's server checks required_keys when it resolves the name.
            with _network_errors_as_unavailable("Modal"):
                secret = modal.Secret.from_name(name, environment_name=environment, required_keys=list(required_keys))
                secret.hydrate()
        except NotFoundError as exc:
            return str(exc)
        return None

    def volume_exists(self, name: str, environment: str) -> bool:
        import modal
        from modal.exception import NotFoundError

        try:
            with _network_errors_as_unavailable("Modal"):
                modal.Volume.from_name(name, environment_name=environment).hydrate()
        except NotFoundError:
            return False
        return True

    def folder_entries(self, name: str, environment: str, folder: str) -> tuple[str, ...] | None:
        import posixpath

        import modal
        from modal.exception import NotFoundError

        volume = modal.Volume.from_name(name, environment_name=environment)
        try:
            with _modal_errors_as_unavailable(), _network_errors_as_unavailable("Modal"):
                volume.hydrate()
        except NotFoundError:
            return None
        try:
            with _modal_errors_as_unavailable(), _network_errors_as_unavailable("Modal"):
                entries = volume.listdir(folder)
        except (NotFoundError, FileNotFoundError):
            return ()  # no such folder in the volume
        return tuple(posixpath.basename(entry.path.rstrip("/")) for entry in entries)


@contextlib.contextmanager
def _modal_errors_as_unavailable() -> Iterator[None]:
    """Modal's answers other than "not found" (permission denied, a server error, an RPC this
    client's server does not have) leave the question open: "cannot tell", never a traceback."""
    from modal.exception import Error as ModalError
    from modal.exception import NotFoundError

    try:
        yield
    except NotFoundError:
        raise
    except ModalError as exc:
        raise Unavailable(f"Modal answered {type(exc).__name__}: {' '.join(str(exc).split())}") from None


class LiveHub:
    """The Hugging Face Hub through `huggingface_hub` (HF_TOKEN from the environment, if set)."""

    def __init__(self) -> None:
        if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
            raise Unavailable("HF_HUB_OFFLINE is set")
        problem = _reachable("huggingface.co")
        if problem:
            raise Unavailable(f"no network: {problem}")
        from huggingface_hub import HfApi

        self._api = HfApi()

    def check_revision(self, model: str, revision: str | None) -> None:
        from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

        try:
            with _network_errors_as_unavailable("the Hub"):
                self._api.model_info(model, revision=revision)
        except GatedRepoError:
            raise Unavailable(f"{model} is gated: set HF_TOKEN to a token with access to check it") from None
        except RevisionNotFoundError:
            raise NotOnHub(f"{model} has no revision {revision}") from None
        except RepositoryNotFoundError:
            raise NotOnHub(f"{model} is not on the Hub (or is private to another account)") from None

    def config(self, model: str, revision: str | None) -> dict[str, Any]:
        import json

        from huggingface_hub import hf_hub_download

        with _network_errors_as_unavailable("the Hub"):
            path = hf_hub_download(model, "config.json", revision=revision)
        with open(path, encoding="utf-8") as handle:
            config: dict[str, Any] = json.load(handle)  # config.json is an object
        return config

    def parameter_count(self, model: str, revision: str | None) -> int | None:
        from huggingface_hub.errors import NotASafetensorsRepoError

        try:
            with _network_errors_as_unavailable("the Hub"):
                metadata = self._api.get_safetensors_metadata(model, revision=revision)
        except NotASafetensorsRepoError:
            return None
        return sum(metadata.parameter_count.values())

    def size(self, model: str, revision: str | None, patterns: tuple[str, ...]) -> int | None:
        with _network_errors_as_unavailable("the Hub"):
            info = self._api.model_info(model, revision=revision, files_metadata=True)
        files = [s for s in info.siblings or () if _matches(s.rfilename, patterns)]
        sizes = [s.size for s in files if s.size is not None]
        return sum(sizes) if len(sizes) == len(files) else None

    def files(self, model: str, revision: str | None, patterns: tuple[str, ...]) -> tuple[str, ...]:
        with _network_errors_as_unavailable("the Hub"):
            info = self._api.model_info(model, revision=revision)
        return tuple(s.rfilename for s in info.siblings or () if _matches(s.rfilename, patterns))


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    """huggingface_hub's allow_patterns rule: fnmatch on the repository path; no patterns, every file."""
    from fnmatch import fnmatch

    return not patterns or any(fnmatch(path, p) for p in patterns)
