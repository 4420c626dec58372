"""How a handler module is read without running it: what resolves, what is left alone, what is
a mistake. Each test writes a small project and asks the checker about one reference."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.project.handlers import HandlerChecker, Use
from engine.project.modules import ProjectModules
from engine.project.root import project_root, source_folders


def _project(tmp_path: Path, files: dict[str, str]) -> HandlerChecker:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return HandlerChecker(ProjectModules(source_folders(tmp_path)), tmp_path, "p/")


def _mistake(checker: HandlerChecker, reference: str, use: str = "function", **kw) -> str | None:
    found = checker.check(reference, Use(use, **kw))
    return None if found is None else found.message


def test_the_root_is_the_nearest_folder_with_a_project_marker(tmp_path):
    (tmp_path / "setup.cfg").write_text("")
    (tmp_path / "deploy" / "manifests").mkdir(parents=True)
    manifest = tmp_path / "deploy" / "manifests" / "app.yaml"
    manifest.write_text("")
    assert project_root(manifest) == tmp_path.resolve()
    (tmp_path / "deploy" / ".git").write_text("gitdir: elsewhere\n")  # a git worktree's .git is a file
    assert project_root(manifest) == (tmp_path / "deploy").resolve()


def test_without_a_marker_the_root_is_the_manifests_folder(tmp_path):
    marked = [
        p
        for p in tmp_path.resolve().parents
        if any((p / m).exists() for m in ("pyproject.toml", "setup.cfg", "setup.py", ".git"))
    ]
    if marked:
        pytest.skip(f"the temporary folder lies inside a project ({marked[0]})")
    manifest = tmp_path / "app.yaml"
    manifest.write_text("")
    assert project_root(manifest) == tmp_path.resolve()


def test_src_layout_packages_are_found(tmp_path):
    checker = _project(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/jobs.py": "def run():\n    pass\n"})
    assert _mistake(checker, "pkg.jobs:run") is None


def test_module_names_match_case_exactly(tmp_path):
    checker = _project(tmp_path, {"jobs/__init__.py": "", "jobs/tasks.py": "def run():\n    pass\n"})
    assert _mistake(checker, "Jobs.tasks:run").startswith("no module 'Jobs.tasks' in this project")


def test_a_module_that_does_not_parse_is_reported_with_its_line(tmp_path):
    checker = _project(tmp_path, {"jobs.py": "def run(:\n    pass\n"})
    assert (
        _mistake(checker, "jobs:run")
        == "jobs.py does not parse (line 1: invalid syntax), so the container cannot import it"
    )


def test_relative_and_absolute_reexports_resolve_to_the_definition(tmp_path):
    checker = _project(
        tmp_path,
        {
            "pkg/__init__.py": "from .impl import work\nfrom pkg.impl import work as alias\n",
            "pkg/impl.py": "def work(a, b):\n    return a\n",
        },
    )
    assert (
        _mistake(checker, "pkg:work", "scheduled")
        == "'pkg:work' (pkg/impl.py:1) requires 'a' and 'b', but a schedule calls it with no arguments"
    )
    assert _mistake(checker, "pkg:alias", "scheduled").startswith("'pkg:alias' (pkg/impl.py:1) requires")


def test_star_imports_within_the_project_resolve(tmp_path):
    checker = _project(tmp_path, {"pkg/__init__.py": "from .impl import *\n", "pkg/impl.py": "LIMIT = 3\n"})
    assert _mistake(checker, "pkg:LIMIT") == "'pkg:LIMIT' is a number, not a function"
    assert _mistake(checker, "pkg:other") == "module 'pkg' has no top-level 'other'"


@pytest.mark.parametrize(
    "source",
    [
        "from os.path import *\n",  # names from outside the project
        "def __getattr__(name):\n    return len\n",  # PEP 562 module attributes
        "globals()['run'] = len\n",  # the namespace edited at run time
        "__all__ = ['run']\n",  # declared, defined some other way
        "from . import run\n",  # a submodule, or nothing we can tell
    ],
)
def test_names_that_only_running_the_module_could_tell_are_not_mistakes(tmp_path, source):
    checker = _project(tmp_path, {"pkg/__init__.py": source})
    assert _mistake(checker, "pkg:run") is None


def test_a_name_bound_differently_in_branches_is_not_judged(tmp_path):
    checker = _project(
        tmp_path, {"jobs.py": "import os\nif os.environ.get('X'):\n    run = 3\nelse:\n    def run():\n        pass\n"}
    )
    assert _mistake(checker, "jobs:run") is None


def test_the_last_unconditional_binding_wins(tmp_path):
    checker = _project(tmp_path, {"jobs.py": "def run():\n    pass\nrun = 'text'\n"})
    assert _mistake(checker, "jobs:run") == "'jobs:run' is text, not a function"


def test_aliases_lambdas_and_imported_modules(tmp_path):
    checker = _project(tmp_path, {"jobs.py": "import json\ndef real(x):\n    pass\nrun = real\nquick = lambda x: x\n"})
    assert _mistake(checker, "jobs:run", "scheduled").startswith("'jobs:run' (jobs.py:2) requires 'x'")
    assert _mistake(checker, "jobs:quick", "scheduled").startswith("'jobs:quick' (jobs.py:5) requires 'x'")
    assert _mistake(checker, "jobs:json") == "'jobs:json' is a module, not a function"


def test_decorated_functions_and_objects_made_by_calls_are_left_alone(tmp_path):
    checker = _project(
        tmp_path,
        {
            "jobs.py": (
                "import functools\n"
                "@functools.cache\ndef cached(x):\n    yield x\n"
                "handler = functools.partial(print, 1)\n"
            )
        },
    )
    assert _mistake(checker, "jobs:cached", "scheduled") is None
    assert _mistake(checker, "jobs:handler", "batched") is None


def test_a_yield_in_a_nested_function_does_not_make_a_generator(tmp_path):
    checker = _project(
        tmp_path, {"jobs.py": "def run():\n    def inner():\n        yield 1\n    return list(inner())\n"}
    )
    assert _mistake(checker, "jobs:run") is None


def test_batched_handlers_refuse_star_parameters(tmp_path):
    checker = _project(tmp_path, {"jobs.py": "def many(*texts):\n    return list(texts)\n"})
    assert _mistake(checker, "jobs:many", "batched") == (
        "'jobs:many' (jobs.py:1) takes *texts; Modal hands a batch over by parameter name, one list per parameter"
    )


@pytest.mark.parametrize(
    ("signature", "body"),
    [
        ("item: dict", True),
        ("item: 'dict[str, int]'", True),
        ("items: list[str]", True),
        ("item: Optional[dict] = None", True),
        ("item: dict | None = None", True),
        ("item: Item", True),
        ("item = Body(...)", True),
        ("q: str, n: int = 3", False),
        ("items: list[str] = Query(None)", False),
        ("items: Annotated[list[str], Query()]", False),
        ("request: Request", False),
        ("anything", False),
    ],
)
def test_get_endpoints_refuse_parameters_fastapi_reads_from_the_body(tmp_path, signature, body):
    checker = _project(
        tmp_path,
        {
            "api.py": (
                "from typing import Annotated, Optional\n"
                "from fastapi import Body, Query, Request\n"
                "from pydantic import BaseModel\n"
                "class Item(BaseModel):\n    name: str\n"
                f"def endpoint({signature}):\n    return {{}}\n"
            )
        },
    )
    found = _mistake(checker, "api:endpoint", "endpoint", method="GET")
    assert (found is not None) == body, found
    assert _mistake(checker, "api:endpoint", "endpoint", method="POST") is None


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("app = FastAPI()", True),
        ("async def app(scope, receive, send):\n    pass", True),
        ("def app(scope, receive, send=None, *rest):\n    pass", True),
        ("app = 'text'", False),
        ("def app():\n    return FastAPI()", False),
    ],
)
def test_asgi_apps_are_app_objects_or_asgi_callables(tmp_path, source, ok):
    checker = _project(tmp_path, {"api.py": f"from fastapi import FastAPI\n{source}\n"})
    assert (_mistake(checker, "api:app", "asgi") is None) == ok


def test_wsgi_apps_take_environ_and_start_response(tmp_path):
    checker = _project(
        tmp_path,
        {
            "wsgisite.py": "def app(environ, start_response):\n    return []\n",
            "web.py": "def app(scope, receive, send):\n    pass\n",
        },
    )
    assert _mistake(checker, "wsgisite:app", "wsgi") is None
    assert _mistake(checker, "web:app", "wsgi") == (
        "'web:app' (web.py:1) is a function of (scope, receive, send), neither a WSGI app (environ, start_response) nor an app object"
    )
