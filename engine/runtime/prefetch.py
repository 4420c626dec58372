"""The prefetch function's body: download each pinned hub model into its cache volume.

The planner puts the jobs in the MDEPLOY_PREFETCH variable of the prefetch function's container
(`planner_models.prefetch_jobs`): repo, revision, allow_patterns, and the cache folder (the
mounted volume + "/hub"), so the weights land in huggingface_hub's cache layout, at the folder a
user's MDEPLOY_MODEL_<KEY> names and where an engine whose Hugging Face cache is that volume
looks. Standard library and huggingface_hub only: this runs in a plain debian_slim image, and
eject copies this function's source into the ejected file.
"""

from __future__ import annotations


def prefetch_models() -> dict[str, str]:
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
    return fetched
