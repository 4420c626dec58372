"""The commit a new manifest pins its Hub model to: given, asked of the Hub, or read from the cache.

A manifest must pin a 40-hex commit (a branch can change under a deployed service), and a
placeholder cannot validate. So, in order:
1. `--revision COMMIT`, as given;
2. the Hub, when it answers within a short bound: the commit `main` points at now;
3. offline, the local Hugging Face cache: the commit `main` pointed at when the model was last
   downloaded on this machine (a real commit, and the one this machine can serve);
4. otherwise nothing is written: the error says how to get the commit and the command to rerun.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import UserError
from engine.local import hub

HUB_TIMEOUT = 10.0  # seconds for the model_info call once the Hub's port answered


@dataclass(frozen=True)
class Pinned:
    commit: str
    how: str  # for the user: where the commit came from


def pin_revision(repo_id: str, given: str | None, env: Mapping[str, str], rerun: str) -> Pinned:
    """The commit to pin; `rerun` is the command line to show for running init again with it."""
    if given is not None:
        return Pinned(given, "as given")
    endpoint = hub.endpoint(env)
    why_not = "HF_HUB_OFFLINE is set" if hub.offline(env) else hub.unreachable(endpoint)
    if why_not is None:
        return Pinned(_main_commit(repo_id, endpoint, env), f"main on {endpoint} now")
    cached = hub.cached_main_commit(repo_id, hub.cache_folder(env))
    if cached is not None:
        return Pinned(cached, f"main when it was last downloaded here ({why_not})")
    raise UserError(
        f"cannot pin a revision of {repo_id}: {why_not}, and the model is not in the local cache, so nothing was "
        f"written. Online, run the same command again; or copy the commit from "
        f"{endpoint}/{repo_id}/commits/main and run: {rerun} --revision COMMIT"
    )


def _main_commit(repo_id: str, endpoint: str, env: Mapping[str, str]) -> str:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    try:
        info = HfApi(endpoint=endpoint, token=env.get("HF_TOKEN") or None).model_info(repo_id, timeout=HUB_TIMEOUT)
    except GatedRepoError:
        raise UserError(f"{repo_id} is gated: set HF_TOKEN to a token with access, or pass --revision COMMIT") from None
    except RepositoryNotFoundError:
        raise UserError(
            f"{repo_id} is not on the Hub at {endpoint} (or is private): check the name, or set HF_TOKEN"
        ) from None
    except OSError as exc:  # requests' and httpx's transport errors are OSErrors
        raise UserError(f"the Hub at {endpoint} did not answer about {repo_id}: {type(exc).__name__}: {exc}") from None
    if not info.sha:
        raise UserError(f"the Hub at {endpoint} gave no commit for {repo_id}: pass --revision COMMIT")
    return info.sha
