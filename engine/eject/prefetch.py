"""The prefetch function written out, so that an ejected file fetches pinned models without mdeploy.

The planner's prefetch function (and the prefetch build step before a `run_function` step that
reads hub models) runs engine/runtime/prefetch.py's `prefetch_models`; the ejected file holds the
same statements under a name of its own (tests/eject/test_models_eject.py compares the two).
"""

from __future__ import annotations

# The name of the module-level copy an image's prefetch build step runs in the ejected file (the
# prefetch *function* keeps its symbol: a Modal Function, which Image.run_function cannot take).
BUILD_PREFETCH_NAME = "fetch_pinned_models"

# The statements of engine/runtime/prefetch.py's `prefetch_models`, indented as a function body.
PREFETCH_BODY = '''\
    """Fetch every job's pinned revision (files already in the cache are not downloaded again);
    return {model key: the local folder}. Modal commits the mounted volumes when the call ends."""
    import json  # imported here: eject copies this function, alone, into the ejected file
    import os

    from huggingface_hub import snapshot_download

    jobs = json.loads(os.environ["MDEPLOY_PREFETCH"])
    fetched = {}
    for job in jobs:
        print(f"prefetch {job['key']}: {job['repo']}@{job['revision']} into {job['cache_dir']}", flush=True)
        fetched[job["key"]] = snapshot_download(
            repo_id=job["repo"],
            revision=job["revision"],
            cache_dir=job["cache_dir"],
            allow_patterns=job["allow_patterns"],
        )
    return fetched'''


def prefetch_function(name: str) -> str:
    """`def NAME() -> dict[str, str]:` with the prefetch body."""
    return f"def {name}() -> dict[str, str]:\n{PREFETCH_BODY}"
