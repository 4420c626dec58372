"""Ordered image steps: every mistake is an error at the key it is about, with the fix."""

from __future__ import annotations

import pytest

from tests.images.recipes import problems_of, write_manifest


def _only(project, images: str, **kwargs) -> str:
    found = problems_of(write_manifest(project, images, **kwargs))
    assert len(found) == 1, found
    return found[0].split("app.yaml:", 1)[1]


def test_a_well_formed_ordered_recipe_plans(project):
    images = """
    x:
      steps:
        - run: ["mkdir -p /opt/app"]
        - add_local_file: {src: assets/config.json, dest: /opt/app/config.json}
        - pip: ["numpy==2.1.0"]
          pre: true
          find_links: https://wheels.example.invalid/simple
        - run_function: {handler: imgjobs.tasks:fetch, secrets: hub, gpu: L4, timeout: 10m}
        - add_local_dir: {src: assets/prompts, dest: /opt/prompts, ignore: ["*.tmp"]}
    """
    assert problems_of(write_manifest(project, images, secrets="hub: {name: hub}\n")) == []


def test_mixing_the_two_forms_is_refused_at_the_unordered_key(project):
    images = """
    x:
      pip: ["numpy==2.1.0"]
      steps:
        - run: ["echo hi"]
    """
    assert _only(project, images) == (
        "6:10: images.x.pip: `pip` cannot be used with `steps`: an image uses one form or the other "
        "(move it into `steps` as an item ('- pip: ...') where it should run)"
    )


def test_an_image_wide_pip_option_beside_steps_is_refused(project):
    images = """
    x:
      index_url: https://pypi.example.invalid/simple
      steps:
        - pip: ["numpy==2.1.0"]
    """
    assert _only(project, images).startswith(
        "6:16: images.x.index_url: `index_url` cannot be used with `steps`: an image uses one form or the other "
        "(write it beside `pip:` in the `pip` item"
    )


@pytest.mark.parametrize(
    "item,expected",
    [
        (
            '{run: ["echo"], pip: [numpy]}',
            "images.x.steps[0].run: one step sets pip and run: each item of `steps` is one build step",
        ),
        ("{}", "images.x.steps[0]: a step names no build step"),
        ("{apt: [git], pre: true}", "images.x.steps[0].pre: `pre` is an option of a `pip` step, not of `apt`"),
        ("{pip: []}", "images.x.steps[0].pip: an empty `pip` step installs nothing"),
        ('{pip: ["--pre"]}', "images.x.steps[0].pip[0]: is not a pip requirement"),
        ("{workdir: opt}", "images.x.steps[0].workdir: workdir must be an absolute path"),
        (
            "{add_local_file: {src: /etc/hosts, dest: /x}}",
            "add_local_file.src: a local path is relative to the project root",
        ),
        (
            "{add_local_file: {src: ../outside.txt, dest: /x}}",
            "add_local_file.src: a local path cannot leave the project",
        ),
        (
            "{add_local_dir: {src: assets/../../up, dest: /x}}",
            "add_local_dir.src: a local path cannot leave the project",
        ),
        (
            "{add_local_file: {src: assets/config.json, dest: rel}}",
            "add_local_file.dest: dest must be an absolute path",
        ),
        (
            "{add_local_file: {src: missing.txt, dest: /x}}",
            "add_local_file.src: no file 'missing.txt' under the project root",
        ),
        (
            "{add_local_dir: {src: assets/config.json, dest: /x}}",
            "add_local_dir.src: 'assets/config.json' is a file, not a folder",
        ),
        ("{add_local_file: {src: assets, dest: /x}}", "add_local_file.src: 'assets' is a folder, not a file"),
        (
            "{run_function: {handler: imgjobs.tasks:nope}}",
            "run_function.handler: module 'imgjobs.tasks' has no top-level 'nope'",
        ),
        (
            "{run_function: {handler: imgjobs.tasks:needs}}",
            "run_function.handler: 'imgjobs.tasks:needs' (imgjobs/tasks.py:10) requires 'model', but an image's run_function step calls it with no arguments",
        ),
        ("{run_function: {handler: os:system}}", "run_function.handler: 'os:system' is refused"),
        (
            "{run_function: {handler: imgjobs.tasks:fetch, timeout: 2d}}",
            "run_function.timeout: must be between 1 and 86400 seconds",
        ),
        (
            "{run_function: {handler: imgjobs.tasks:fetch, secrets: [hbu]}}",
            "run_function.secrets[0]: no secret 'hbu' is declared in `secrets` (did you mean 'hub'?)",
        ),
        ("{run_function: {handler: imgjobs.tasks:fetch, gpu: H99}}", "run_function.gpu"),
    ],
)
def test_a_mistaken_step_is_located_at_its_key(project, item, expected):
    found = problems_of(write_manifest(project, f"x:\n  steps:\n    - {item}\n", secrets="hub: {name: hub}\n"))
    assert len(found) == 1, found
    assert expected in found[0], found[0]
    assert "app.yaml:" in found[0] and found[0].split("app.yaml:", 1)[1][0].isdigit()  # file:line:col


def test_a_link_out_of_the_project_is_refused(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside") / "secret.txt"
    outside.write_text("nope\n")
    (project / "assets" / "link.txt").symlink_to(outside)
    found = problems_of(
        write_manifest(project, "x:\n  steps:\n    - add_local_file: {src: assets/link.txt, dest: /x}\n")
    )
    assert len(found) == 1 and "add_local_file.src: 'assets/link.txt' leads out of the project" in found[0], found


def test_the_unordered_form_takes_the_new_pip_options(project):
    images = """
    x:
      pip: ["numpy==2.1.0"]
      pre: true
      find_links: https://wheels.example.invalid/simple
    """
    assert problems_of(write_manifest(project, images)) == []
    lonely = "x:\n  find_links: https://wheels.example.invalid/simple\n"
    (problem,) = problems_of(write_manifest(project, lonely))
    assert "images.x.find_links: a pip option without `pip` packages does nothing" in problem
