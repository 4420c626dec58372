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
    return fetched'''


def prefetch_function(name: str) -> str:
    """`def NAME() -> dict[str, str]:` with the prefetch body."""
    return f"def {name}() -> dict[str, str]:\n{PREFETCH_BODY}"
