"""`mdeploy eject -o FILE`: the ejected file finds the images' local paths from its own folder,
wherever it is written, so it deploys from any working directory."""

from __future__ import annotations

import re

from tests.images.recipes import write_manifest

LOCAL = "x:\n  steps:\n    - add_local_file: {src: assets/config.json, dest: /opt/config.json}\n"


def test_the_root_constant_leads_from_the_file_to_the_project_root(project, run_mdeploy):
    manifest = write_manifest(project, LOCAL)
    (project / "deploy").mkdir()
    target = project / "deploy" / "app.py"
    done = run_mdeploy("eject", str(manifest), "-o", str(target), cwd=project)
    assert done.returncode == 0, done.stderr
    source = target.read_text()
    assert re.search(
        r'^PROJECT_ROOT = \(pathlib\.Path\(__file__\)\.resolve\(\)\.parent / "\.\."\)\.resolve\(\)', source, re.M
    )
    assert '.add_local_file(PROJECT_ROOT / "assets/config.json", "/opt/config.json")' in source
