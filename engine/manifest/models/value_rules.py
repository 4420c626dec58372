"""The rules over a manifest's values that pydantic's per-field checks cannot say: values Modal
or an engine would refuse (or quietly misread) only at deploy or at start-up, and the warnings.

Each rule reads the raw merged data (tolerant of shapes the models reject, so one run reports
everything) and returns findings; docs/validation.md lists them with their sources.
"""

from __future__ import annotations

from typing import Any

from engine.manifest.models.base import Finding
from engine.manifest.models.gpu_precision import check_gpu_precision
from engine.manifest.models.python_versions import check_end_of_life_python
from engine.manifest.models.regions import check_regions
from engine.manifest.models.resources import check_low_memory


def check_value_rules(data: Any) -> list[Finding]:
    """Every value rule, in a fixed order."""
    if not isinstance(data, dict):
        return []
    return [*check_regions(data), *check_gpu_precision(data), *check_end_of_life_python(data), *check_low_memory(data)]
