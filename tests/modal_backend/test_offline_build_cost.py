"""What the offline build leaves behind and repeats: counted, never timed.

`mdeploy validate DIR` builds hundreds of apps in one process; each scratch build must leave
nothing registered in Modal (a kept App keeps its whole object graph alive: gc and exit time grew
with every manifest, about a fifth of the process on 500 manifests).
"""

from __future__ import annotations

import modal

from engine.modal_backend.offline_build import offline_complaints
from tests.modal_backend.blueprints import pipeline, vllm_server


def _registered(name: str) -> int:
    return len(modal.app._App._all_apps.get(name, []))


def test_offline_builds_leave_no_app_registered():
    for blueprint in (pipeline(), vllm_server()):
        before = _registered(blueprint.app)
        for _ in range(3):
            assert offline_complaints(blueprint) == []
        assert _registered(blueprint.app) == before


def test_a_refused_build_leaves_no_app_registered():
    import dataclasses

    blueprint = pipeline()
    broken = dataclasses.replace(
        blueprint,
        functions=tuple(
            dataclasses.replace(
                f,
                container=dataclasses.replace(
                    f.container, scaling=dataclasses.replace(f.container.scaling, scaledown_window=1)
                ),
            )
            for f in blueprint.functions
        ),
    )
    before = _registered(broken.app)
    complaints = offline_complaints(broken)
    assert complaints and all(c.severity == "error" for c in complaints)
    assert _registered(broken.app) == before
