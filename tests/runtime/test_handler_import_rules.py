"""Handler references resolve the same way in the container and in `mdeploy run`; each side words
a failure its own way (the container raises HandlerImportError, the CLI a UserError)."""

from __future__ import annotations

import sys

import pytest

from engine.errors import UserError
from engine.local.call import import_handler as local_import_handler
from engine.runtime.handler_import import HandlerImportError, import_handler


@pytest.fixture
def handler_package(tmp_path, monkeypatch):
    package = tmp_path / "mdeploy_handler_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "good.py").write_text("def double(x):\n    return 2 * x\n")
    (package / "broken.py").write_text("from mdeploy_handler_pkg.good import missing_name\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [name for name in sys.modules if name.split(".")[0] == package.name]:
        del sys.modules[name]


def test_reference_resolves_to_the_named_attribute(handler_package):
    assert import_handler("mdeploy_handler_pkg.good:double")(4) == 8


def test_reference_without_colon_is_malformed():
    with pytest.raises(HandlerImportError, match="not of the form 'package.module:attr'"):
        import_handler("mdeploy_handler_pkg.good")


def test_container_error_names_reference_and_missing_attribute(handler_package):
    with pytest.raises(
        HandlerImportError, match=r"handler 'mdeploy_handler_pkg.good:triple': module .* has no 'triple'"
    ):
        import_handler("mdeploy_handler_pkg.good:triple")


def test_local_run_reports_missing_attribute_as_user_error(handler_package):
    with pytest.raises(UserError, match=r"module 'mdeploy_handler_pkg.good' has no 'triple' \(handler "):
        local_import_handler("mdeploy_handler_pkg.good:triple")


def test_local_run_reports_missing_module_as_user_error(handler_package):
    with pytest.raises(UserError, match=r"cannot import 'mdeploy_handler_pkg.nothing' for handler .*No module named"):
        local_import_handler("mdeploy_handler_pkg.nothing:run")


def test_local_run_reports_an_import_error_inside_the_module_as_user_error(handler_package):
    with pytest.raises(UserError, match=r"cannot import 'mdeploy_handler_pkg.broken' for handler .*missing_name"):
        local_import_handler("mdeploy_handler_pkg.broken:anything")
