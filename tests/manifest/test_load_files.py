"""Reading manifest files from disk: byte-level checks, overlays, environments, discovery."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.errors import UserError
from engine.manifest.errors import ManifestError
from engine.manifest.load import (
    discover_manifests,
    environments_of,
    load_merged,
    overlay_path,
    read_layer,
    resolve_environment,
)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    """Work in tmp_path so paths can be given relative, as users give them."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: str, content: str | bytes) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, encoding="utf-8")
    return p


def problem_of(call):
    with pytest.raises(ManifestError) as caught:
        call()
    assert len(caught.value.problems) == 1
    problem = caught.value.problems[0]
    return problem, (problem.location.file, problem.location.line, problem.location.col)


def test_display_path_is_relative_as_given(in_tmp):
    write("manifests/chat.yaml", "app: x\n")
    assert read_layer("manifests/chat.yaml").file == "manifests/chat.yaml"
    assert read_layer(in_tmp / "manifests/chat.yaml").file == (in_tmp / "manifests/chat.yaml").as_posix()


def test_yml_and_toml_suffixes_read(in_tmp):
    write("a.yml", "app: x\n")
    write("b.toml", 'app = "x"\n')
    assert read_layer("a.yml").data == read_layer("b.toml").data == {"app": "x"}


def test_file_over_one_mebibyte_rejected(in_tmp):
    write("big.yaml", "a: 1\n" + "# pad\n" * (1024 * 1024 // 6 + 1))
    problem, where = problem_of(lambda: read_layer("big.yaml"))
    assert where == ("big.yaml", 1, 1) and "1 MiB" in problem.message


def test_file_of_exactly_one_mebibyte_accepted(in_tmp):
    head = "a: 1\n"
    write("edge.yaml", head + "#" * (1024 * 1024 - len(head) - 1) + "\n")
    assert read_layer("edge.yaml").data == {"a": 1}


def test_bom_rejected(in_tmp):
    write("bom.yaml", b"\xef\xbb\xbfapp: x\n")
    problem, where = problem_of(lambda: read_layer("bom.yaml"))
    assert where == ("bom.yaml", 1, 1) and "BOM" in problem.message


def test_utf16_rejected(in_tmp):
    write("u16.toml", "app = 'x'\n".encode("utf-16"))
    problem, where = problem_of(lambda: read_layer("u16.toml"))
    assert where == ("u16.toml", 1, 1) and "UTF-16" in problem.message


def test_non_utf8_rejected(in_tmp):
    write("latin.yaml", "app: x\ndescription: caf\xe9 ok\n".encode("latin-1"))
    problem, where = problem_of(lambda: read_layer("latin.yaml"))
    assert where == ("latin.yaml", 2, 17) and "0xe9" in problem.message


def test_non_utf8_column_counts_characters_not_bytes(in_tmp):
    write("mixed.yaml", "d: é\xff\n".encode().replace(b"\xc3\xbf", b"\xff"))
    _, where = problem_of(lambda: read_layer("mixed.yaml"))
    assert where == ("mixed.yaml", 1, 5)


def test_missing_file_is_user_error(in_tmp):
    with pytest.raises(UserError, match="nope.yaml"):
        read_layer("nope.yaml")


def test_folder_given_as_manifest_is_user_error(in_tmp):
    os.mkdir("dir.yaml")
    with pytest.raises(UserError, match="not a regular file"):
        read_layer("dir.yaml")


def test_unknown_suffix_is_user_error(in_tmp):
    write("chat.json", "{}")
    with pytest.raises(UserError, match="expected .yaml"):
        read_layer("chat.json")


def test_overlay_path_finds_yaml_overlay(in_tmp):
    write("m/chat.yaml", "app: x\n")
    write("m/chat.prod.yml", "app: y\n")
    assert overlay_path("m/chat.yaml", "prod") == Path("m/chat.prod.yml")


def test_overlay_path_finds_toml_overlay_for_yaml_base(in_tmp):
    write("m/chat.yaml", "app: x\n")
    write("m/chat.prod.toml", "app = 'y'\n")
    assert overlay_path("m/chat.yaml", "prod") == Path("m/chat.prod.toml")


def test_overlay_path_none_when_absent_or_no_env(in_tmp):
    write("chat.yaml", "app: x\n")
    assert overlay_path("chat.yaml", "dev") is None
    assert overlay_path("chat.yaml", None) is None


def test_yaml_and_toml_overlays_for_one_env_rejected(in_tmp):
    write("chat.yaml", "app: x\n")
    write("chat.prod.yaml", "app: y\n")
    write("chat.prod.toml", "app = 'y'\n")
    with pytest.raises(UserError, match="chat.prod.yaml and chat.prod.toml"):
        overlay_path("chat.yaml", "prod")


def test_environment_name_with_slash_rejected(in_tmp):
    write("chat.yaml", "app: x\n")
    with pytest.raises(UserError, match="environment name"):
        overlay_path("chat.yaml", "../etc")


def test_load_merged_applies_overlay_and_interpolation(in_tmp):
    write("chat.yaml", "app: chat\nservices:\n  c: {gpu: A100, port: '${PORT}'}\n")
    write("chat.prod.yaml", "services:\n  c: {gpu: '${GPU}'}\n")
    merged = load_merged("chat.yaml", "prod", {"PORT": "80", "GPU": "H100"})
    assert merged.data == {"app": "chat", "services": {"c": {"gpu": "H100", "port": "80"}}}
    assert merged.files == ("chat.yaml", "chat.prod.yaml")
    assert merged.interpolated == {("services", "c", "gpu"): "${GPU}", ("services", "c", "port"): "${PORT}"}


def test_load_merged_without_env_ignores_overlays(in_tmp):
    write("chat.yaml", "app: chat\n")
    write("chat.prod.yaml", "app: other\n")
    assert load_merged("chat.yaml", None, {}).data == {"app": "chat"}


def test_error_in_overlay_points_at_overlay_file(in_tmp):
    write("chat.yaml", "app: chat\nservices: {}\n")
    write("chat.prod.yaml", "services:\n  c:\n    gpu: ${GPU}\n")
    problem, where = problem_of(lambda: load_merged("chat.yaml", "prod", {}))
    assert where == ("chat.prod.yaml", 3, 10) and "GPU" in problem.message


def test_problems_of_base_and_overlay_reported_together(in_tmp):
    write("chat.yaml", "app: ${APP}\n")
    write("chat.prod.yaml", "a: 1\na: 2\n")
    with pytest.raises(ManifestError) as caught:
        load_merged("chat.yaml", "prod", {})
    assert [p.location.file for p in caught.value.problems] == ["chat.prod.yaml", "chat.yaml"]


def test_load_merged_defaults_to_process_environment(in_tmp, monkeypatch):
    write("chat.yaml", "app: ${MDEPLOY_TEST_APP_NAME}\n")
    monkeypatch.setenv("MDEPLOY_TEST_APP_NAME", "from-env")
    assert load_merged("chat.yaml", None).data == {"app": "from-env"}


def test_resolve_environment_prefers_cli_flag():
    assert resolve_environment("dev", {"MODAL_ENVIRONMENT": "prod"}) == "dev"


def test_resolve_environment_falls_back_to_modal_environment():
    assert resolve_environment(None, {"MODAL_ENVIRONMENT": "prod"}) == "prod"
    assert resolve_environment(None, {"MODAL_ENVIRONMENT": ""}) is None
    assert resolve_environment(None, {}) is None


def test_discover_manifests_finds_bases_and_skips_overlays(in_tmp):
    for name in [
        "m/chat.yaml",
        "m/chat.prod.yaml",
        "m/jobs/etl.toml",
        "m/jobs/etl.dev.yml",
        "m/solo.v2.yaml",
        "m/.hidden/x.yaml",
        "m/notes.txt",
    ]:
        write(name, "app: x\n")
    assert discover_manifests(["m"]) == [Path("m/chat.yaml"), Path("m/jobs/etl.toml"), Path("m/solo.v2.yaml")]


def test_discover_manifests_keeps_files_given_explicitly(in_tmp):
    write("m/chat.yaml", "app: x\n")
    write("m/chat.prod.yaml", "app: y\n")
    assert discover_manifests(["m/chat.prod.yaml", "m"]) == [Path("m/chat.prod.yaml"), Path("m/chat.yaml")]


def test_discover_missing_path_is_user_error(in_tmp):
    with pytest.raises(UserError, match="missing"):
        discover_manifests(["missing"])


def test_environments_of_lists_overlay_envs(in_tmp):
    for name in ["chat.yaml", "chat.prod.yaml", "chat.dev.toml", "chatty.prod2.yaml", "other.staging.yaml"]:
        write(name, "app: x\n")
    assert environments_of("chat.yaml") == ["dev", "prod"]
