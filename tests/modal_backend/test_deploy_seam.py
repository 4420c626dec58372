"""What Modal's client really sends on `modal deploy engine/entry.py`, compared with the Blueprint.

Every shipped manifest, for the base environment and each environment with an overlay, plus a
fixture that sets every field the shipped manifests leave at its default
(data/seam/seam-everything.yaml), is deployed through Modal's own CLI against a fake control plane
(tests/support/fake_control_plane.py). The requests it records — function and class
definitions, secrets, volumes, mounts, image layers, the publish — are compared field by field
with the Blueprint the planner makes of the same manifest (seam_checks.py). A value the backend
drops, renames or bends shows up here; reading back `Function.info()` could not show it.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import pytest

import engine.blueprint.model as model
from engine.blueprint.model import Blueprint
from engine.planner.plan import plan_file
from tests.modal_backend import seam_checks
from tests.modal_backend.seam_sent import SentApp
from tests.support.modal_deploy import REPO_ROOT, deploy, fake_modal

MANIFESTS = REPO_ROOT / "manifests"
# A project of its own (setup.cfg marks the root), so the handler modules it names are its own.
FIXTURES = Path(__file__).resolve().parent / "data" / "seam"
SUFFIXES = (".yaml", ".yml", ".toml")
BASE_ENVIRONMENT = "main"  # `--env main`: no shipped manifest has a main overlay, so the base alone


def _bases(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES)
    stems = {p.stem for p in files}
    return [p for p in files if not ("." in p.stem and p.stem.rsplit(".", 1)[0] in stems)]


def _environments(base: Path) -> list[str]:
    overlays = {
        p.stem.rsplit(".", 1)[1]
        for p in base.parent.iterdir()
        if p.suffix in SUFFIXES and "." in p.stem and p.stem.rsplit(".", 1)[0] == base.stem
    }
    return [BASE_ENVIRONMENT, *sorted(overlays)]


CASES = [(base, env) for folder in (MANIFESTS, FIXTURES) for base in _bases(folder) for env in _environments(base)]


def _case_id(case: tuple[Path, str]) -> str:
    return f"{case[0].relative_to(REPO_ROOT).as_posix()}@{case[1]}"


@pytest.fixture(scope="module")
def deployed() -> dict[str, tuple[Blueprint, SentApp]]:
    """Every case deployed once through one fake control plane: case id -> (Blueprint, sent)."""
    results = {}
    with fake_modal() as fake:
        for case in CASES:
            base, env = case
            manifest = base.relative_to(REPO_ROOT)  # as users write it, from the repository root
            calls = deploy(fake, manifest, env)
            blueprint = plan_file(manifest, env)
            results[_case_id(case)] = (blueprint, SentApp.from_calls(calls))
        unanswered = fake.unanswered()
    assert unanswered == [], f"the client called RPCs the fake does not answer: {unanswered}"
    return results


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_deploy_sends_what_the_blueprint_says(deployed, case):
    blueprint, sent = deployed[_case_id(case)]
    mismatches = seam_checks.compare(blueprint, sent)
    assert not mismatches, "\n".join(mismatches)


# ---------------------------------------------------------------------------------------------
# The field list: nothing in the Blueprint may go unchecked


def _blueprint_fields() -> dict[str, dataclasses.Field]:
    """Every field of every dataclass reachable from Blueprint, as "Class.field"."""
    found: dict[str, dataclasses.Field] = {}
    pending = [Blueprint]
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        hints = typing.get_type_hints(cls, vars(model))
        for f in dataclasses.fields(cls):
            found[f"{cls.__name__}.{f.name}"] = f
            pending.extend(t for t in _types_in(hints[f.name]) if dataclasses.is_dataclass(t))
    return found


def _types_in(annotation) -> list:
    args = typing.get_args(annotation)
    return [annotation] if not args else [t for a in args for t in _types_in(a)]


def test_every_blueprint_field_is_compared_or_explained():
    fields = set(_blueprint_fields())
    compared, explained = set(seam_checks.COMPARED), set(seam_checks.NOT_SENT)
    assert not compared & explained, f"both compared and explained: {sorted(compared & explained)}"
    assert sorted(fields - compared - explained) == [], (
        "Blueprint fields no check compares (add a check or a NOT_SENT reason)"
    )
    assert sorted((compared | explained) - fields) == [], "checks name fields the Blueprint does not have"


def _values(obj, path: str, out: dict[str, list]) -> None:
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            name = f"{type(obj).__name__}.{f.name}"
            value = getattr(obj, f.name)
            out.setdefault(name, []).append(value)
            _values(value, name, out)
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            _values(item, path, out)


def test_every_compared_field_is_sent_with_a_value_other_than_its_default(deployed):
    """A check that only ever sees a field's default proves little: some deployed Blueprint must
    set each compared field to something else (data/seam/seam-everything.yaml is there for that)."""
    values: dict[str, list] = {}
    for blueprint, _ in deployed.values():
        _values(blueprint, "Blueprint", values)
    only_default = []
    for name, f in _blueprint_fields().items():
        if name not in seam_checks.COMPARED or name in seam_checks.NEVER_PLANNED:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            continue  # required: every value is a real one
        if all(v == default for v in values.get(name, [])):
            only_default.append(name)
    assert only_default == []


# ---------------------------------------------------------------------------------------------
# Each check can fail: change one Blueprint value it compares, and it must see the difference


def _function(blueprint: Blueprint, key: str, **changes) -> Blueprint:
    functions = tuple(dataclasses.replace(f, **changes) if f.key == key else f for f in blueprint.functions)
    return dataclasses.replace(blueprint, functions=functions)


def _server(blueprint: Blueprint, key: str, **changes) -> Blueprint:
    servers = tuple(dataclasses.replace(s, **changes) if s.key == key else s for s in blueprint.servers)
    return dataclasses.replace(blueprint, servers=servers)


def _container(blueprint: Blueprint, key: str, **changes) -> Blueprint:
    for spec in (*blueprint.functions, *blueprint.servers):
        if spec.key == key:
            container = dataclasses.replace(spec.container, **changes)
            edit = _function if isinstance(spec, model.FunctionSpec) else _server
            return edit(blueprint, key, container=container)
    raise KeyError(key)


def _scaling(bp: Blueprint, key: str, **changes) -> Blueprint:
    spec = next(s for s in (*bp.functions, *bp.servers) if s.key == key)
    return _container(bp, key, scaling=dataclasses.replace(spec.container.scaling, **changes))


def _image_step(bp: Blueprint, image: str, index: int, **changes) -> Blueprint:
    images = []
    for spec in bp.images:
        if spec.key == image:
            steps = list(spec.steps)
            steps[index] = dataclasses.replace(steps[index], **changes)
            spec = dataclasses.replace(spec, steps=tuple(steps))
        images.append(spec)
    return dataclasses.replace(bp, images=tuple(images))


EVERYTHING = "tests/modal_backend/data/seam/seam-everything.yaml@main"
MUTATIONS = {
    "check_app_name": (EVERYTHING, lambda bp: dataclasses.replace(bp, app="another-app")),
    "check_app_tags": (EVERYTHING, lambda bp: dataclasses.replace(bp, tags={"team": "other"})),
    "check_environment": (EVERYTHING, lambda bp: dataclasses.replace(bp, environment="staging")),
    "check_objects_published": (EVERYTHING, lambda bp: dataclasses.replace(bp, functions=bp.functions[1:])),
    "check_every_image_is_used": (
        EVERYTHING,
        lambda bp: dataclasses.replace(bp, images=(*bp.images, model.ImageSpec("spare", "debian_slim", "3.12"))),
    ),
    "check_volumes": (
        EVERYTHING,
        lambda bp: dataclasses.replace(
            bp, volumes=tuple(dataclasses.replace(v, create_if_missing=True) for v in bp.volumes)
        ),
    ),
    "check_named_secrets": (
        EVERYTHING,
        lambda bp: dataclasses.replace(
            bp, secrets=tuple(dataclasses.replace(s, required_keys=("OTHER",)) for s in bp.secrets)
        ),
    ),
    "check_app_secret": (EVERYTHING, lambda bp: dataclasses.replace(bp, source="elsewhere.yaml")),
    "check_gpu": (EVERYTHING, lambda bp: _container(bp, "fallback", gpu=("A100", "L40S", "H100"))),
    "check_resources": (EVERYTHING, lambda bp: _container(bp, "snappy", cpu=4.0)),
    "check_placement": (EVERYTHING, lambda bp: _container(bp, "hook", cloud="aws")),
    "check_secrets": (EVERYTHING, lambda bp: _container(bp, "hook", env={"MDEPLOY_APP": "other"})),
    "check_mounts": (
        EVERYTHING,
        lambda bp: dataclasses.replace(bp, buckets=tuple(dataclasses.replace(b, read_only=True) for b in bp.buckets)),
    ),
    "check_scaling": (EVERYTHING, lambda bp: _scaling(bp, "snappy", scaleup_window=46)),
    "check_snapshots": (EVERYTHING, lambda bp: _container(bp, "snappy", gpu_snapshot=False)),
    "check_image": (EVERYTHING, lambda bp: _image_step(bp, "tools", 0, args=("curl", "jq"))),
    "check_function_identity": (EVERYTHING, lambda bp: _function(bp, "hook", symbol="hook_2")),
    "check_function_timeout": (EVERYTHING, lambda bp: _function(bp, "hook", timeout=301)),
    "check_retries": (EVERYTHING, lambda bp: _function(bp, "retrying", retries=model.RetrySpec(max_retries=5))),
    "check_schedule": (
        "manifests/pipeline.yaml@prod",
        lambda bp: _function(bp, "discover", schedule=model.ScheduleSpec("cron", cron="0 3 * * *", timezone="UTC")),
    ),
    "check_input_concurrency": (
        EVERYTHING,
        lambda bp: _function(bp, "wsgi-site", concurrency=model.ConcurrencySpec(20)),
    ),
    "check_batching": (
        "manifests/embeddings.yaml@main",
        lambda bp: _function(bp, "embed", batching=model.BatchingSpec(64, 10)),
    ),
    "check_web": (EVERYTHING, lambda bp: _function(bp, "wsgi-site", web=model.WebSpec("asgi_app", label="seam-site"))),
    "check_models_where_their_users_read_them": (
        "manifests/embeddings-baked.yaml@main",
        lambda bp: dataclasses.replace(bp, models=tuple(dataclasses.replace(x, images=()) for x in bp.models)),
    ),
    "check_single_use": (EVERYTHING, lambda bp: _function(bp, "fallback", max_inputs=None)),
    "check_server_identity": (EVERYTHING, lambda bp: _server(bp, "snappy", symbol="Snappy2")),
    "check_http": (EVERYTHING, lambda bp: _server(bp, "snappy", h2_enabled=False)),
    "check_function_routing_region": (EVERYTHING, lambda bp: _function(bp, "retrying", routing_region="us-east")),
    "check_server_concurrency": (EVERYTHING, lambda bp: _server(bp, "snappy", target_concurrency=16)),
    "check_cluster": (
        "tests/modal_backend/data/seam/seam-cluster.yaml@main",
        lambda bp: _server(bp, "big", cluster=dataclasses.replace(bp.servers[0].cluster, rdma=False)),
    ),
    "check_class": (
        "manifests/classes.yaml@main",
        lambda bp: _function(bp, "reranker", cls=dataclasses.replace(bp.functions[0].cls, methods=("score",))),
    ),
    "check_class_parameters": (
        "tests/modal_backend/data/seam/seam-classes.yaml@main",
        lambda bp: _function(
            bp,
            "scorer",
            cls=dataclasses.replace(
                bp.functions[0].cls,
                parameters=tuple(
                    dataclasses.replace(p, default="salt") if p.name == "salt" else p
                    for p in bp.functions[0].cls.parameters
                ),
            ),
        ),
    ),
}


def test_every_check_has_a_mutation_that_it_catches():
    assert sorted(MUTATIONS) == sorted(check.__name__ for check in seam_checks.ALL_CHECKS)


@pytest.mark.parametrize("check", seam_checks.ALL_CHECKS, ids=lambda c: c.__name__)
def test_check_sees_a_changed_value(deployed, check):
    case, mutate = MUTATIONS[check.__name__]
    blueprint, sent = deployed[case]
    assert seam_checks.compare(blueprint, sent, only=check) == []
    assert seam_checks.compare(mutate(blueprint), sent, only=check) != []


STEPS = "tests/modal_backend/data/seam/seam-steps.yaml@main"


@pytest.mark.parametrize(
    "changes",
    [
        {"cpu": 3.0},
        {"memory": 1024},
        {"env": {"BAKE_TO": "/elsewhere"}},
        {"mounts": ()},
        {"secrets": ("hub",)},
    ],
    ids=lambda c: next(iter(c)),
)
def test_a_build_steps_resources_env_and_volumes_are_compared(deployed, changes):
    """The `run_function` step that reads a model (seam-steps.yaml): each of what it sends."""
    blueprint, sent = deployed[STEPS]
    (image,) = [i for i in blueprint.images if i.key == "ordered"]
    index = next(n for n, s in enumerate(image.steps) if s.args == ("buildsteps.weights:bake_encoder",))
    assert seam_checks.compare(blueprint, sent, only=seam_checks.check_image) == []
    changed = _image_step(blueprint, "ordered", index, **changes)
    assert seam_checks.compare(changed, sent, only=seam_checks.check_image) != []


def test_a_build_step_reading_a_hub_model_is_preceded_by_its_prefetch(deployed):
    blueprint, _ = deployed[STEPS]
    (image,) = [i for i in blueprint.images if i.key == "ordered"]
    ops = [(s.op, s.args[:1]) for s in image.steps if s.op == "run_function"]
    assert ops == [
        ("run_function", ("buildsteps.weights:fetch_weights",)),
        ("run_function", (model.PREFETCH_HANDLER,)),
        ("run_function", ("buildsteps.weights:bake_encoder",)),
    ]
    prefetch, bake = [s for s in image.steps if s.models]
    folder = "hub/models--BAAI--bge-small-en-v1.5/snapshots/5c38ec7c405ec4b44b94cc5a9bb96e735b38267a"
    # The hub model is fetched into the image (a layer), and read from there; only the step's own
    # volume is mounted.
    assert bake.env == {"BAKE_TO": "/opt/encoder", "MDEPLOY_MODEL_ENCODER": f"/opt/mdeploy/models/{folder}"}
    assert {m.path: m.source for m in bake.mounts} == {"/scratch": "scratch"}
    assert prefetch.mounts == ()
    (job,) = json.loads(prefetch.env["MDEPLOY_PREFETCH"])
    assert job["cache_dir"] == "/opt/mdeploy/models/hub" and job["revision"] in bake.env["MDEPLOY_MODEL_ENCODER"]


def _models(bp: Blueprint, **changes) -> Blueprint:
    return dataclasses.replace(bp, models=tuple(dataclasses.replace(x, **changes) for x in bp.models))


@pytest.mark.parametrize(
    ("case", "changes"),
    [
        # A model in a volume (manifests/transcribe.yaml): another volume, another folder, no volume.
        ("manifests/transcribe.yaml@main", {"volume": "elsewhere"}),
        ("manifests/transcribe.yaml@main", {"folder": "hub/models--other/snapshots/x"}),
        ("manifests/transcribe.yaml@main", {"volume": None}),
        # A volume-less model baked into the image (manifests/embeddings-baked.yaml): another
        # folder, another revision than the image's fetch step sends, or said to be read from a volume.
        ("manifests/embeddings-baked.yaml@main", {"folder": "hub/models--other/snapshots/x"}),
        ("manifests/embeddings-baked.yaml@main", {"revision": "0" * 40}),
        ("manifests/embeddings-baked.yaml@main", {"images": (), "volume": "hf-cache"}),
    ],
    ids=lambda v: v if isinstance(v, str) else ",".join(v),
)
def test_where_a_model_is_read_is_compared_with_what_its_users_are_sent(deployed, case, changes):
    blueprint, sent = deployed[case]
    check = seam_checks.check_models_where_their_users_read_them
    assert [x.images for x in blueprint.models] == ([("baked",)] if "baked" in case else [()])
    assert seam_checks.compare(blueprint, sent, only=check) == []
    assert seam_checks.compare(_models(blueprint, **changes), sent, only=check) != []
