"""How the live Modal probe reads Modal's settings before it checks anything."""

from __future__ import annotations

from engine.preflight.probes import server_hosts, server_sockets


def test_server_url_with_fallbacks_yields_every_host():
    # Modal 1.6's default server_url lists a fallback after a comma.
    assert server_hosts("https://api.modal.com,https://api.modal2.com") == ["api.modal.com", "api.modal2.com"]


def test_server_url_host_drops_scheme_port_and_path():
    assert server_hosts(" http://localhost:8080/api ") == ["localhost"]


def test_an_unreadable_modal_config_is_one_error_line_without_modals_banner(run_mdeploy, tmp_path):
    config = tmp_path / "modal.toml"
    config.write_text("garbage = =\n", encoding="utf-8")
    result = run_mdeploy("preflight", "manifests/pipeline.yaml", env={"MODAL_CONFIG_PATH": str(config)})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: the Modal client cannot start: Error when reading the modal configuration")
    assert str(config) in result.stderr and "internal error" not in result.stderr


def test_a_unix_socket_server_url_is_a_socket_not_a_host():
    # grpclib's form, which the tests' fake control plane listens on.
    assert server_hosts("unix:///tmp/modal.sock") == []
    assert server_sockets("unix:///tmp/modal.sock, https://api.modal.com") == ["/tmp/modal.sock"]
