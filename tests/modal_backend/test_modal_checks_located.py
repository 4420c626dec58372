"""Modal's own client-side checks, reached and located, with mdeploy's rules bypassed.

Each case plans a shipped manifest, then changes the Blueprint the way no manifest can (our rules
refuse every one of these values first; tests/cli/test_cli_validate_modal_checks.py shows which
rule), and builds it offline: the problem must be Modal's own message, at the manifest key the
origins record names for the field that fed the refused argument. This is the mapping's test; the
CLI test is the user's view.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import modal
import pytest
from modal._functions import _Function

from engine.blueprint.model import RetrySpec
from engine.modal_backend.modal_problems import modal_problems
from engine.modal_backend.offline_build import offline_complaints
from engine.planner.plan import load_and_plan

REPO = Path(__file__).resolve().parents[2]
PIPELINE, WEB, CHAT = "manifests/pipeline.yaml", "manifests/web-api.yaml", "manifests/chat.yaml"
EMBEDDINGS = "manifests/embeddings.yaml"
R = dataclasses.replace


def _function(key, **changes):
    def change(b):
        return R(b, functions=tuple(R(f, **changes) if f.key == key else f for f in b.functions))

    return change


def _container(key, **changes):
    def change(b):
        return R(
            b, functions=tuple(R(f, container=R(f.container, **changes)) if f.key == key else f for f in b.functions)
        )

    return change


def _scaling(key, **changes):
    def change(b):
        return R(
            b,
            functions=tuple(
                R(f, container=R(f.container, scaling=R(f.container.scaling, **changes))) if f.key == key else f
                for f in b.functions
            ),
        )

    return change


def _server(**changes):
    return lambda b: R(b, servers=(R(b.servers[0], **changes),))


def _server_scaling(**changes):
    def change(b):
        s = b.servers[0]
        return R(b, servers=(R(s, container=R(s.container, scaling=R(s.container.scaling, **changes))),))

    return change


def _retries(**changes):
    return lambda b: _function("work", retries=R(b.functions[1].retries, **changes))(b)


def _mounts(extra_or_first):
    def change(b):
        mounts = b.functions[1].container.mounts
        return _container("work", mounts=extra_or_first(mounts))(b)

    return change


def _web_kind(**changes):
    return lambda b: _function("api", web=R(b.functions[0].web, **changes))(b)


# (id, manifest, change, where (file:line:col key), Modal's words)
CASES = [
    (
        "scaledown_window",
        PIPELINE,
        _scaling("work", scaledown_window=1),
        "manifests/pipeline.yaml:72:7: functions.work.scaling.scaledown_window",
        "`scaledown_window` must be between 2 and 3600",
    ),
    (
        "min_above_max",
        PIPELINE,
        _scaling("work", min_containers=30),
        "manifests/pipeline.yaml:70:5: functions.work.scaling.min_containers",
        "`min_containers` (30) cannot be greater than `max_containers` (20)",
    ),
    (
        "retries_count",
        PIPELINE,
        _retries(max_retries=-1),
        "manifests/pipeline.yaml:64:7: functions.work.retries.count",
        "Invalid retries number: -1",
    ),
    (
        "retries_backoff",
        PIPELINE,
        _retries(backoff_coefficient=20.0),
        "manifests/pipeline.yaml:65:7: functions.work.retries.backoff",
        "Invalid backoff_coefficient: 20.0",
    ),
    (
        "retries_initial_delay",
        PIPELINE,
        _retries(initial_delay=70.0),
        "manifests/pipeline.yaml:66:7: functions.work.retries.initial_delay",
        "Invalid initial_delay argument: 70.0",
    ),
    (
        "retries_max_delay",
        PIPELINE,
        _retries(max_delay=100.0),
        "manifests/pipeline.yaml:67:7: functions.work.retries.max_delay",
        "Invalid max_delay argument: 100.0",
    ),
    (
        "concurrency_target_above_max",
        PIPELINE,
        lambda b: _function("work", concurrency=R(b.functions[1].concurrency, target_inputs=9))(b),
        "manifests/pipeline.yaml:68:5: functions.work.concurrency.target_inputs",
        "`target_inputs` parameter cannot be greater than `max_inputs`",
    ),
    (
        "batch_size",
        EMBEDDINGS,
        lambda b: _function("embed", batching=R(b.functions[0].batching, max_batch_size=5000))(b),
        "manifests/embeddings.yaml:32:7: functions.embed.batching.max_batch_size",
        "max_batch_size cannot be greater than 1000.",
    ),
    (
        "batch_wait",
        EMBEDDINGS,
        lambda b: _function("embed", batching=R(b.functions[0].batching, wait_ms=-1))(b),
        "manifests/embeddings.yaml:33:7: functions.embed.batching.wait_ms",
        "wait_ms must be a non-negative integer.",
    ),
    (
        "gpu_count",
        PIPELINE,
        _container("work", gpu=("H100:x",)),
        "manifests/pipeline.yaml:59:3: functions.work.gpu",
        "Invalid GPU count: x",
    ),
    (
        "timeout_none",
        PIPELINE,
        _function("work", timeout=None),
        "manifests/pipeline.yaml:11:3: defaults.timeout",
        "The `timeout` parameter cannot be set to None",
    ),
    (
        "mount_at_root",
        PIPELINE,
        _mounts(lambda m: (R(m[0], path="/root"), *m[1:])),
        "manifests/pipeline.yaml:73:5: functions.work.volumes",
        "Volume /root cannot be mounted at '/root'",
    ),
    (
        "mount_at_tmp",
        PIPELINE,
        _mounts(lambda m: (R(m[0], path="/tmp"), *m[1:])),
        "manifests/pipeline.yaml:73:5: functions.work.volumes",
        "Volume /tmp cannot be mounted at '/tmp'",
    ),
    (
        "mount_not_canonical",
        PIPELINE,
        _mounts(lambda m: (R(m[0], path="/data/../results"), *m[1:])),
        "manifests/pipeline.yaml:73:5: functions.work.volumes",
        "must be a canonical, absolute path",
    ),
    (
        "same_volume_twice",
        PIPELINE,
        _mounts(lambda m: (*m, R(m[0], path="/again"))),
        "manifests/pipeline.yaml:73:5: functions.work.volumes",
        "The same Volume cannot be mounted in multiple locations",
    ),
    (
        "volume_name",
        PIPELINE,
        lambda b: R(b, volumes=(R(b.volumes[0], name="bad name!"),)),
        "manifests/pipeline.yaml:31:5: volumes.results.name",
        "Invalid Volume name: 'bad name!'",
    ),
    (
        "dict_name",
        PIPELINE,
        lambda b: R(b, dicts=(R(b.dicts[0], name="d d"),)),
        "manifests/pipeline.yaml:42:5: dicts.processed.name",
        "Invalid Dict name: 'd d'",
    ),
    (
        "queue_name",
        PIPELINE,
        lambda b: R(b, queues=(R(b.queues[0], name="q q"),)),
        "manifests/pipeline.yaml:46:5: queues.todo.name",
        "Invalid Queue name: 'q q'",
    ),
    (
        "tag",
        WEB,
        lambda b: R(b, tags={"team": "plat form"}),
        "manifests/web-api.yaml:8:1: tags",
        "Invalid tag value: 'plat form'",
    ),
    (
        "web_retries",
        WEB,
        _function("api", retries=RetrySpec(max_retries=1)),
        "manifests/web-api.yaml:22:3: services.api",
        "Web Functions do not support retries.",
    ),
    (
        "web_server_port",
        WEB,
        _web_kind(kind="web_server", port=0, startup_timeout=5),
        "manifests/web-api.yaml:22:3: services.api",
        "First argument of `@web_server` must be a local port",
    ),
    (
        "web_server_startup_timeout",
        WEB,
        _web_kind(kind="web_server", port=8000, startup_timeout=0),
        "manifests/web-api.yaml:22:3: services.api",
        "The `startup_timeout` argument of `@web_server` must be positive.",
    ),
    (
        "server_port",
        CHAT,
        _server(port=70000),
        "manifests/chat.yaml:18:3: services.llama",
        "Port must be a positive integer between 1 and 65535.",
    ),
    (
        "server_startup_timeout",
        CHAT,
        _server(startup_timeout=0),
        "manifests/chat.yaml:38:5: services.llama.startup_timeout",
        "The `startup_timeout` argument must be positive.",
    ),
    (
        "server_exit_grace_period_long",
        CHAT,
        _server(exit_grace_period=4000),
        "manifests/chat.yaml:18:3: services.llama",
        "The `exit_grace_period` argument must not exceed 3600 seconds",
    ),
    (
        "server_exit_grace_period_negative",
        CHAT,
        _server(exit_grace_period=-1),
        "manifests/chat.yaml:18:3: services.llama",
        "The `exit_grace_period` argument must be non-negative.",
    ),
    (
        "server_target_above_max",
        CHAT,
        _server(target_concurrency=100, max_concurrency=10),
        "manifests/chat.yaml:36:7: services.llama.concurrency.target",
        "The `target_concurrency` argument cannot be greater than `max_concurrency`.",
    ),
    (
        "server_target_negative",
        CHAT,
        _server(target_concurrency=-1),
        "manifests/chat.yaml:36:7: services.llama.concurrency.target",
        "The `target_concurrency` argument must be non-negative.",
    ),
    (
        "server_max_negative",
        CHAT,
        _server(max_concurrency=-1),
        "manifests/chat.yaml:37:7: services.llama.concurrency.max",
        "The `max_concurrency` argument must be non-negative.",
    ),
    (
        "server_routing_region",
        CHAT,
        _server(routing_region=""),
        "manifests/chat.yaml:18:3: services.llama",
        "The `routing_region` argument must be passed.",
    ),
    (
        "server_scaledown_window",
        CHAT,
        _server_scaling(scaledown_window=1),
        "manifests/chat.yaml:34:7: services.llama.scaling.scaledown_window",
        "`scaledown_window` must be between 2 and 3600",
    ),
    (
        "server_min_above_max",
        CHAT,
        _server_scaling(min_containers=5, max_containers=1),
        "manifests/chat.yaml:32:7: services.llama.scaling.min_containers",
        "`min_containers` (5) cannot be greater than `max_containers` (1)",
    ),
]


def _problems(manifest, change, environ=None):
    loaded, planned = load_and_plan(manifest, None, environ)
    return modal_problems(loaded, R(planned, blueprint=change(planned.blueprint)))


@pytest.mark.parametrize("manifest, change, where, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_modal_refusal_is_located_at_the_manifest_key_behind_the_argument(manifest, change, where, words):
    problems = _problems(manifest, change)
    assert len(problems) == 1, [p.format() for p in problems]
    line = problems[0].format()
    assert line.startswith(f"{where}: Modal's client: "), line
    assert words in line
    assert line.endswith(
        f"(Modal {modal.__version__} checks this as the app is declared: `modal deploy` would stop here)"
    )
    assert problems[0].is_error


def test_the_shipped_manifests_satisfy_modal_s_checks():
    for manifest in sorted((REPO / "manifests").glob("*.yaml")) + sorted((REPO / "manifests").glob("*.toml")):
        if manifest.stem.count("."):
            continue  # overlays are checked with their base by the CLI tests
        loaded, planned = load_and_plan(manifest.relative_to(REPO).as_posix(), None)
        assert modal_problems(loaded, planned) == [], manifest


def test_every_function_and_server_gets_its_first_refusal_in_one_run():
    problems = _problems(
        PIPELINE, lambda b: _scaling("drain", scaledown_window=99999)(_scaling("work", scaledown_window=1)(b))
    )
    assert [p.key for p in problems] == ["functions.work.scaling.scaledown_window", "functions.drain"]


def test_a_refused_image_or_named_object_stops_the_build_with_that_one_problem():
    problems = _problems(
        PIPELINE, lambda b: _scaling("work", scaledown_window=1)(R(b, volumes=(R(b.volumes[0], name="a b"),)))
    )
    assert [p.key for p in problems] == ["volumes.results.name"]


# --- a rule Modal does not have yet reaches users, located, without a line of ours -----------------


@pytest.fixture
def project(tmp_path):
    shutil.copytree(REPO / "tests" / "manifest" / "data" / "project" / "jobs", tmp_path / "jobs")
    (tmp_path / "setup.cfg").write_text("")
    return tmp_path


def _new_modal_rule(monkeypatch, rule):
    """Modal's `_Function._from_local` with `rule(kwargs)` run first, as a later Modal might."""
    original = _Function._from_local

    def from_local(*args, **kwargs):
        rule(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(_Function, "_from_local", staticmethod(from_local))


def test_a_new_modal_refusal_is_located_at_the_argument_it_names(project, monkeypatch):
    (project / "m.yaml").write_text(
        "version: 1\napp: checks\nfunctions:\n  work:\n    handler: jobs.tasks:process\n    cloud: oci\n"
    )

    def rule(kwargs):
        if kwargs.get("cloud") == "oci":
            raise modal.exception.InvalidError("`cloud` 'oci' is no longer offered.")

    _new_modal_rule(monkeypatch, rule)
    (problem,) = _problems(str(project / "m.yaml"), lambda b: b)
    assert problem.format() == (
        f"{project}/m.yaml:6:5: functions.work.cloud: Modal's client: `cloud` 'oci' is no longer offered. "
        f"(Modal {modal.__version__} checks this as the app is declared: `modal deploy` would stop here)"
    )


def test_a_new_modal_deprecation_is_a_located_warning(project, monkeypatch):
    from modal._utils.deprecation import deprecation_warning

    (project / "m.yaml").write_text(
        "version: 1\napp: checks\nfunctions:\n  work:\n    handler: jobs.tasks:process\n    nonpreemptible: true\n"
    )

    def rule(kwargs):
        if kwargs.get("nonpreemptible"):
            deprecation_warning((2027, 1, 1), "`nonpreemptible` is deprecated; use `preemptible=False`.")

    _new_modal_rule(monkeypatch, rule)
    (problem,) = _problems(str(project / "m.yaml"), lambda b: b)
    assert not problem.is_error
    assert problem.format() == (
        f"{project}/m.yaml:6:5: functions.work.nonpreemptible: warning: Modal's client: 2027-01-01: `nonpreemptible` "
        f"is deprecated; use `preemptible=False`. (Modal {modal.__version__} warns about this as the app is declared; "
        "the deploy goes on)"
    )


def test_a_modal_refusal_naming_no_argument_is_put_at_the_object(project, monkeypatch):
    (project / "m.yaml").write_text("version: 1\napp: checks\nfunctions:\n  work:\n    handler: jobs.tasks:process\n")
    _new_modal_rule(monkeypatch, lambda kwargs: (_ for _ in ()).throw(modal.exception.InvalidError("Not today.")))
    (problem,) = _problems(str(project / "m.yaml"), lambda b: b)
    assert problem.format().startswith(f"{project}/m.yaml:4:3: functions.work: Modal's client: Not today. ")


def test_an_exception_of_ours_while_building_is_not_dressed_up_as_modal_s(monkeypatch):
    import engine.modal_backend.functions as functions

    def broken(*args, **kwargs):
        raise KeyError("a bug of ours")

    monkeypatch.setattr(functions, "region_argument", broken)
    loaded, planned = load_and_plan(PIPELINE, None)
    with pytest.raises(KeyError):
        offline_complaints(planned.blueprint)


def test_a_value_from_a_variable_is_shown_as_its_reference(project, monkeypatch):
    """Modal quotes the name it refuses; a name that came from `${VOLUME}` is shown as that."""
    import modal._utils.name_utils as name_utils

    (project / "m.yaml").write_text(
        'version: 1\napp: checks\nvolumes:\n  data: {name: "${VOLUME}"}\n'
        "functions:\n  work:\n    handler: jobs.tasks:process\n    volumes: {/data: data}\n"
    )
    loaded, planned = load_and_plan(str(project / "m.yaml"), None, {"VOLUME": "team-private-volume-7"})
    monkeypatch.setattr(name_utils, "is_valid_object_name", lambda name: False)  # Modal, stricter
    (problem,) = modal_problems(loaded, planned)
    assert "team-private-volume-7" not in problem.format()
    assert problem.format().startswith(
        f"{project}/m.yaml:4:10: volumes.data.name: Modal's client: Invalid Volume name: ${{VOLUME}}. "
    )


def test_a_resource_warning_during_the_build_is_not_modals_complaint():
    """The garbage collector may report an unclosed transport of an earlier client mid-build."""
    from engine.modal_backend.offline_build import _WarningRecords

    found: list = []
    records = _WarningRecords(found)
    records.show_warning("unclosed transport <_SelectorSocketTransport>", ResourceWarning, "asyncio.py", 1)
    assert found == []
    records.show_warning("a Modal deprecation", DeprecationWarning, "modal/app.py", 1)
    assert len(found) == 1
