"""An env entry that came from a `${VAR}` is ejected as a read of the deploying shell, never as
its value: `modal deploy` of the ejected file sends the value in the env secret, and a container
(where the shell's variable does not exist) rebuilds the same dependencies without it."""

from __future__ import annotations

import pytest

from tests.modal_backend.introspect import dependency_reprs, env_secret_values

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MANIFEST = """\
version: 1
app: vars-eject
functions:
  job:
    handler: workloads.pipeline:discover
    env: {STAGE: "${STAGE_NAME:-dev}", HOST: "db-${STAGE_NAME}.internal", LITERAL: "$${HOME}"}
"""


@pytest.fixture
def ejected(tmp_path, run_mdeploy):
    (tmp_path / "vars.yaml").write_text(MANIFEST)
    (tmp_path / "setup.cfg").write_text("")  # the project root: validation reads the handler there
    (tmp_path / "workloads").mkdir()
    (tmp_path / "workloads" / "__init__.py").write_text("")
    (tmp_path / "workloads" / "pipeline.py").write_text("def discover():\n    return []\n")
    done = run_mdeploy("eject", "vars.yaml", cwd=tmp_path, env={"STAGE_NAME": "stagingzq"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_value_is_not_in_the_ejected_file(ejected):
    assert "stagingzq" not in ejected
    assert '"STAGE": from_deploy_env("STAGE_NAME", "dev")' in ejected
    assert '"HOST": "db-" + from_deploy_env("STAGE_NAME") + ".internal"' in ejected
    assert '"LITERAL": "${HOME}"' in ejected  # `$${HOME}` is text, not a variable


def test_deploying_the_ejected_file_sends_the_shell_value(ejected, import_source, monkeypatch):
    monkeypatch.setenv("STAGE_NAME", "prodzq")
    module = import_source(ejected)
    assert env_secret_values(module.job) == {
        "HOST": "db-prodzq.internal",
        "LITERAL": "${HOME}",
        "MDEPLOY_APP": "vars-eject",
        "STAGE": "prodzq",
    }


def test_a_container_rebuilds_the_same_dependencies_without_the_variable(ejected, import_source, monkeypatch):
    monkeypatch.setenv("STAGE_NAME", "prodzq")
    deployed = dependency_reprs(import_source(ejected).job)
    monkeypatch.delenv("STAGE_NAME")
    import modal

    monkeypatch.setattr(modal, "is_local", lambda: False)
    in_container = import_source(ejected)
    assert dependency_reprs(in_container.job) == deployed
    assert env_secret_values(in_container.job)["STAGE"] == ""


def test_deploying_without_the_variable_fails_naming_it(ejected, import_source, monkeypatch):
    monkeypatch.delenv("STAGE_NAME", raising=False)
    with pytest.raises(RuntimeError, match="environment variable STAGE_NAME is not set"):
        import_source(ejected)
