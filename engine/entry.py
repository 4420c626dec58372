"""The generic Modal entry: `MDEPLOY_MANIFEST=manifests/chat.yaml modal deploy engine/entry.py --env=prod`.

Locally: plan the manifest named by MDEPLOY_MANIFEST for the Modal environment (MODAL_ENVIRONMENT,
which `modal deploy --env` sets); `build_app` ships that Blueprint to every container as the
app-level secret MDEPLOY_BLUEPRINT. In a container: build from MDEPLOY_BLUEPRINT alone — no
manifest, no pydantic, no YAML parser. The machinery is in engine/modal_backend/.
"""

from collections.abc import Mapping
from pathlib import Path

import modal

# Set by one branch or the other below: at deploy, the values of env entries from variables (as
# build_app takes them) and the project root; in a container, neither.
_env_values: Mapping[tuple[str, str], Mapping[str, str]] | None
_root: Path | None

if modal.is_local():
    import os as _os
    import sys as _sys

    # `modal deploy engine/entry.py` imports this file as top-level `entry` with engine/ (not the
    # repository) on sys.path; handler packages live in the directory the deploy runs from.
    for _path in (_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), _os.getcwd()):
        if _path not in _sys.path:
            _sys.path.insert(0, _path)

    from engine.modal_backend.deploy_side import local_files_root, plan_for_deploy

    # The values of env entries from `${VAR}`s travel only in the env secrets built here, never
    # in the Blueprint; the container rebuilds the same secrets from the Blueprint alone.
    _blueprint, _env_values = plan_for_deploy(_os.environ)
    _root = local_files_root(_blueprint)  # where the images' local files are read from
else:
    from engine.modal_backend.container_side import blueprint_in_container

    _blueprint, _env_values = blueprint_in_container(), None
    _root = None  # a container reads no local files: Modal attached them at deploy

from engine.modal_backend.app import build_app  # noqa: E402

app = build_app(_blueprint, globals(), __name__, env_values=_env_values, project_root=_root)
