"""Overlay merge properties over generated layers (hypothesis), parsed from real YAML text."""

from __future__ import annotations

import io
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from engine.manifest.errors import Location, ManifestError
from engine.manifest.load import read_layer
from engine.manifest.overlay import merge_layers
from engine.manifest.source import Layer, Span
from engine.manifest.validate import LoadedManifest, collect_problems
from engine.manifest.yaml_reader import parse_yaml
from engine.planner.plan import plan_app

REPO = Path(__file__).resolve().parents[2]
# MDEPLOY_PROPERTY_EXAMPLES=2000 for a longer exploration than the suite's.
EXAMPLES = int(os.environ.get("MDEPLOY_PROPERTY_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_keys = st.sampled_from(["a", "b", "c", "env", "services", "scaling", "gpu", "name"])
_scalars = st.one_of(st.integers(-5, 5), st.booleans(), st.sampled_from(["x", "yes", "3.10", "H100", "10m", ""]))
_values = st.recursive(
    st.one_of(_scalars, st.lists(_scalars, max_size=3)),
    lambda inner: st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)
_overlay_values = st.recursive(
    st.one_of(_scalars, st.none(), st.lists(_scalars, max_size=3)),
    lambda inner: st.dictionaries(_keys, inner, max_size=4),
    max_leaves=12,
)


def _yaml_text(data: dict) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _layer(data: dict, file: str) -> Layer:
    """The data as a file would give it: dumped to YAML and parsed back, positions included."""
    return parse_yaml(_yaml_text(data), file)


def _state(merged) -> tuple:
    return merged.data, merged.spans, merged.plain_scalars, merged.interpolated


def _empty_overlay() -> Layer:
    return Layer(file="empty.prod.yaml", data={}, spans={(): Span(None, Location("empty.prod.yaml", 1, 1))})


@SETTINGS
@given(st.dictionaries(_keys, _values, min_size=1, max_size=5))
def test_empty_overlay_changes_nothing(base_data):
    base = _layer(base_data, "base.yaml")
    assert _state(merge_layers([base, _empty_overlay()])) == _state(merge_layers([base]))


@SETTINGS
@given(
    st.dictionaries(_keys, _values, min_size=1, max_size=5),
    st.dictionaries(_keys, _overlay_values, min_size=1, max_size=5),
)
def test_overlay_applied_twice_equals_applied_once(base_data, overlay_data):
    base, overlay = _layer(base_data, "base.yaml"), _layer(overlay_data, "base.prod.yaml")
    assert _state(merge_layers([base, overlay, overlay])) == _state(merge_layers([base, overlay]))


@SETTINGS
@given(
    st.dictionaries(_keys, _values, min_size=1, max_size=5),
    st.dictionaries(_keys, _overlay_values, min_size=1, max_size=5),
)
def test_merge_never_changes_its_input_layers(base_data, overlay_data):
    base, overlay = _layer(base_data, "base.yaml"), _layer(overlay_data, "base.prod.yaml")
    before = (repr(base.data), dict(base.spans), repr(overlay.data), dict(overlay.spans))
    merge_layers([base, overlay])
    assert (repr(base.data), dict(base.spans), repr(overlay.data), dict(overlay.spans)) == before


def _paths(data, prefix=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))


SHIPPED_BASES = [REPO / "manifests" / n for n in ("chat.yaml", "pipeline.yaml", "web-api.yaml", "embeddings.yaml")]
_BASE_LAYERS = {p: read_layer(p) for p in SHIPPED_BASES}
_manifest_values = st.one_of(
    st.none(),
    st.integers(-2, 100),
    st.booleans(),
    st.sampled_from(["H100", "A100:2", "5m", "1h", "nope", "4GiB", "huggingface", "/data", "llm", "web", "vllm"]),
    st.lists(st.sampled_from(["huggingface", "aws", "L4", "x"]), max_size=2),
    st.dictionaries(
        st.sampled_from(["min_containers", "max_containers", "cron", "every", "proxy", "name"]),
        st.one_of(st.integers(-1, 10), st.sampled_from(["1h", "0 3 * * *", "x"]), st.booleans()),
        max_size=2,
    ),
)


@st.composite
def _manifest_overlays(draw):
    base_path = draw(st.sampled_from(SHIPPED_BASES))
    paths = sorted(_paths(_BASE_LAYERS[base_path].data))
    overlay: dict = {}
    for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True)):
        node = overlay
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else node
        if isinstance(node, dict):
            node[path[-1]] = draw(_manifest_values)
    return base_path, overlay


@SETTINGS
@given(_manifest_overlays())
def test_merged_valid_layers_validate_or_fail_with_located_problems(case):
    base_path, overlay_data = case
    base = _BASE_LAYERS[base_path]
    overlay = _layer(overlay_data, base_path.with_suffix(".prod.yaml").as_posix())
    merged = merge_layers([base, overlay])
    manifest, problems = collect_problems(merged)
    if manifest is not None:
        try:
            plan_app(LoadedManifest(manifest, merged, "prod", base.file))
        except ManifestError as exc:
            problems = exc.problems
    for problem in problems:
        where = problem.location
        assert where is not None and where.line >= 1 and where.col >= 1, problem.format()
        assert where.file in merged.files, problem.format()
