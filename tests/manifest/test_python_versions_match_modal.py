"""The checked-in table of Python series is the installed modal's own
(`modal._image.SUPPORTED_PYTHON_SERIES`); `mdeploy validate` reads the copy and never imports modal."""

from __future__ import annotations

import json

from engine.manifest.models.python_versions import BUILDABLE, RECOMMENDED, SUPPORTED_PYTHON_SERIES


def test_table_is_the_installed_modals():
    from modal._image import SUPPORTED_PYTHON_SERIES as modals

    assert SUPPORTED_PYTHON_SERIES == dict(modals), (
        "modal's table changed: paste this into engine/manifest/models/python_versions.py\n"
        + json.dumps(dict(modals), indent=4)
    )


def test_buildable_series_are_the_plain_ones_of_every_builder():
    assert BUILDABLE == ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15"]
    assert RECOMMENDED == ["3.11", "3.12", "3.13", "3.14", "3.15"]
