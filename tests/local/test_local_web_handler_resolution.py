"""`mdeploy serve` of web functions resolves the handler reference as the container does
(engine.runtime.handler_import): a reference that does not resolve is reported in its words."""

import socket

import pytest

from engine.blueprint.codec import to_json


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["fastapi_endpoint", "web_server"])
def test_missing_web_handler_is_reported_as_the_container_words_it(bp, tmp_path, run_mdeploy, kind):
    (tmp_path / "webpkg").mkdir()
    (tmp_path / "webpkg" / "__init__.py").write_text("")
    (tmp_path / "webpkg" / "api.py").write_text("def hello():\n    return {}\n")
    port = _free_port()
    web = bp.WebSpec(kind=kind, port=port, startup_timeout=30) if kind == "web_server" else bp.WebSpec(kind=kind)
    function = bp.function("api", handler="webpkg.api:nothere", web=web)
    path = tmp_path / "blueprint.json"
    path.write_text(to_json(bp.blueprint(functions=[function])))
    done = run_mdeploy("serve", str(path), "--port", str(port), cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stderr
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("HandlerImportError: handler 'webpkg.api:nothere': module 'webpkg.api' has no 'nothere'")
    )


def test_endpoint_app_routes_the_root_to_the_resolved_handler(monkeypatch):
    from engine.local.endpoint_app import create_app
    from engine.runtime.handler_import import import_handler

    monkeypatch.setenv("MDEPLOY_ENDPOINT_HANDLER", "engine.bench.stats:percentile")
    monkeypatch.setenv("MDEPLOY_ENDPOINT_METHOD", "POST")
    app = create_app()
    (route,) = [r for r in app.routes if getattr(r, "path", None) == "/"]
    assert route.endpoint is import_handler("engine.bench.stats:percentile") and route.methods == {"POST"}
