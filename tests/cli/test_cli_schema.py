"""`mdeploy schema`: prints the generated schema, writes it, and --check catches drift."""

from __future__ import annotations

import json

from engine.manifest.schema import render_schema


def test_schema_prints_the_generated_schema(run_mdeploy):
    result = run_mdeploy("schema")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "mdeploy manifest"


def test_schema_output_writes_the_file(run_mdeploy, tmp_path):
    target = tmp_path / "out" / "schema.json"
    result = run_mdeploy("schema", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == render_schema()


def test_schema_check_passes_on_the_checked_in_file(run_mdeploy):
    result = run_mdeploy("schema", "--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_schema_check_fails_with_a_clear_message_on_drift(run_mdeploy, tmp_path):
    stale = tmp_path / "schema.json"
    stale.write_text(render_schema().replace("mdeploy manifest", "old manifest"), encoding="utf-8")
    result = run_mdeploy("schema", "--check", "-o", str(stale))
    assert result.returncode == 1
    assert "out of date" in result.stderr and f"mdeploy schema -o {stale}" in result.stderr


def test_schema_check_of_a_missing_file_is_a_user_error(run_mdeploy, tmp_path):
    result = run_mdeploy("schema", "--check", "-o", str(tmp_path / "none.json"))
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_schema_overlay_prints_the_overlay_schema(run_mdeploy):
    result = run_mdeploy("schema", "--overlay")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "mdeploy manifest overlay"


def test_schema_check_covers_both_checked_in_schemas(run_mdeploy):
    result = run_mdeploy("schema", "--check")
    assert "manifest.schema.json is up to date" in result.stdout
    assert "manifest-overlay.schema.json is up to date" in result.stdout


def test_schema_check_of_a_stale_overlay_schema_names_the_overlay_command(run_mdeploy, tmp_path):
    stale = tmp_path / "overlay.json"
    stale.write_text(render_schema(), encoding="utf-8")  # the base schema is not the overlay's
    result = run_mdeploy("schema", "--overlay", "--check", "-o", str(stale))
    assert result.returncode == 1
    assert f"mdeploy schema --overlay -o {stale}" in result.stderr


def test_schema_output_to_a_folder_is_a_user_error(run_mdeploy, tmp_path):
    result = run_mdeploy("schema", "-o", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path}: is a folder"), result.stderr


def test_schema_output_under_a_file_is_a_user_error(run_mdeploy, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    result = run_mdeploy("schema", "-o", str(blocker / "schema.json"))
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: {blocker / 'schema.json'}: cannot write it ({blocker} is a file, not a folder)"
    ), result.stderr


def test_schema_check_of_a_binary_file_reports_it_out_of_date(run_mdeploy, tmp_path):
    binary = tmp_path / "schema.json"
    binary.write_bytes(b"\xfd\xff\x00 not text")
    result = run_mdeploy("schema", "--check", "-o", str(binary))
    assert result.returncode == 1
    assert "out of date" in result.stderr and "internal error" not in result.stderr


def test_schema_check_of_a_folder_is_a_user_error(run_mdeploy, tmp_path):
    result = run_mdeploy("schema", "--check", "-o", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {tmp_path}: is a folder"), result.stderr


def test_the_checked_in_reference_is_current(run_mdeploy):
    result = run_mdeploy("schema", "--reference", "--check")
    assert result.returncode == 0, result.stderr
    assert "docs/reference.md is up to date" in result.stdout


def test_a_stale_reference_fails_the_check_and_names_the_command(run_mdeploy, tmp_path):
    from engine.manifest.reference import render_reference

    stale = tmp_path / "reference.md"
    stale.write_text(render_reference().replace("Modal Volumes by key.", "Volumes."), encoding="utf-8")
    result = run_mdeploy("schema", "--reference", "--check", "-o", str(stale))
    assert result.returncode == 1
    assert "out of date" in result.stderr and f"mdeploy schema --reference -o {stale}" in result.stderr


def test_reference_writes_the_page(run_mdeploy, tmp_path):
    from engine.manifest.reference import render_reference

    target = tmp_path / "docs" / "reference.md"
    result = run_mdeploy("schema", "--reference", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_text(encoding="utf-8") == render_reference()


def test_reference_and_overlay_together_are_a_user_error(run_mdeploy):
    result = run_mdeploy("schema", "--reference", "--overlay")
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and "Traceback" not in result.stderr


def test_the_reference_lists_every_key_of_every_model_with_its_description():
    """Every property of every object in the schema has a row in its section, with the type and
    the default the models give it."""
    from engine.manifest.reference import render_reference
    from engine.manifest.schema import manifest_json_schema

    page = render_reference()
    schema = manifest_json_schema()
    objects = {"Top level": schema, **schema["$defs"]}
    rows = 0
    for name, node in objects.items():
        if "properties" not in node:
            continue
        heading = "## Top level" if name == "Top level" else f"## `{name}`"
        assert heading in page, f"no section for {name}"
        section = page.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
        for key, field in node["properties"].items():
            row = next((line for line in section.splitlines() if line.startswith(f"| `{key}` |")), None)
            assert row, f"{name}.{key} has no row"
            description = " ".join(field.get("description", "").split()).replace("|", "\\|")
            assert description in row, (name, key)
            if key in node.get("required", []):
                assert "| required |" in row, (name, key)
            rows += 1
    assert rows > 150


def test_a_duration_field_shows_its_bounds_and_default():
    from engine.manifest.reference import render_reference

    section = render_reference().split("## `FunctionScaling`\n", 1)[1].split("\n## ", 1)[0]
    assert "| `min_containers` | integer >= 0 | `0` |" in section
    assert "| `scaledown_window` | integer >= 2, <= 3600 \\| string \\| null | - |" in section


def test_an_output_named_like_a_manifest_is_refused_and_the_manifest_kept(run_mdeploy, tmp_path):
    """`-o chat.yaml` is a slip for a manifest argument: writing there would replace the manifest."""
    manifest = tmp_path / "chat.yaml"
    manifest.write_text("version: 1\napp: chat\n", encoding="utf-8")
    for extra in ((), ("--overlay",), ("--check",)):
        result = run_mdeploy("schema", *extra, "-o", str(manifest))
        assert result.returncode == 1
        assert result.stderr == (
            f"error: {manifest}: a .yaml file is a manifest, and `mdeploy schema` writes JSON; "
            f"name another file, e.g. {tmp_path / 'manifest.schema.json'}\n"
        )
    result = run_mdeploy("schema", "--reference", "-o", str(tmp_path / "keys.toml"))
    assert result.returncode == 1 and "writes Markdown" in result.stderr
    assert manifest.read_text(encoding="utf-8") == "version: 1\napp: chat\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chat.yaml"]
