"""The prefetch function's body: download each pinned hub model into its cache volume.

The planner puts the jobs in the MDEPLOY_PREFETCH variable of the prefetch function's container
(`planner_models.prefetch_jobs`): repo, revision, allow_patterns, and the cache folder (the
mounted volume + "/hub"), so the weights land in huggingface_hub's cache layout, at the folder a
user's MDEPLOY_MODEL_<KEY> names and where an engine whose Hugging Face cache is that volume
looks. Standard library and huggingface_hub only (installed for the call when the image lacks
it): this runs in a plain debian_slim image or in a user's image, and eject copies this
function's source into the ejected file.
"""

from __future__ import annotations


def prefetch_models() -> dict[str, str]:
    """Fetch every job's pinned revision (files already in the cache are not downloaded again);
    return {model key: the local folder}. Modal commits the mounted volumes when the call ends.

    An image that lacks huggingface_hub (a `- models:` build step in an image of the user's whose
    packages do not bring it) gets the pinned one installed into a folder of its own for this
    call, beside the image's packages and not into them, so the user's pins stay as they are."""
    import json  # imported here: eject copies this function, alone, into the ejected file
    import os
    import shutil
    import subprocess
    import sys
    import tempfile

    hub_requirement = "huggingface-hub==2.4.0"  # the prefetch image's pin, so the cache layout is the same
    private = None
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        private = tempfile.mkdtemp(prefix="mdeploy-hub-")
        print(f"prefetch: this image has no huggingface_hub; installing {hub_requirement} for this step", flush=True)
        install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--target", private]
        if subprocess.run([*install, hub_requirement]).returncode != 0:
            raise RuntimeError(
                f"this image has no huggingface_hub and pip could not install {hub_requirement}: "
                "add huggingface-hub to a pip step before the step that fetches the models"
            ) from None
        sys.path.insert(0, private)
        from huggingface_hub import snapshot_download

    jobs = json.loads(os.environ["MDEPLOY_PREFETCH"])
    fetched = {}
    try:
        for job in jobs:
            print(f"prefetch {job['key']}: {job['repo']}@{job['revision']} into {job['cache_dir']}", flush=True)
            fetched[job["key"]] = snapshot_download(
                repo_id=job["repo"],
                revision=job["revision"],
                cache_dir=job["cache_dir"],
                allow_patterns=job["allow_patterns"],
            )
    finally:
        if private is not None:  # leave nothing of it in the image's layer
            sys.path.remove(private)
            shutil.rmtree(private, ignore_errors=True)
    return fetched
