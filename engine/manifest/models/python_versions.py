"""Which Python versions an image may ask for: the series Modal 1.6's image builders support.

`SUPPORTED_PYTHON_SERIES` is a copy of `modal._image.SUPPORTED_PYTHON_SERIES` of the installed
modal (1.6.4); `tests/manifest/test_python_versions_match_modal.py` fails when the two differ and
prints the table to paste here. It is a copy because `mdeploy validate` never imports modal.

- A series no builder supports ("3.9", "3.16") is an error: the image cannot be built.
- "3.10" is a warning: only builders up to 2025.06 offer it (not Modal's latest, 2026.10), Modal
  warns that it is end of life, and Modal 1.7 will not run or deploy apps whose images use it.
- Free-threaded series ("3.14t") are left out of what a manifest may name: `debian_slim` refuses
  them, and the manifest's `python` takes plain `3.N` only.
"""

from __future__ import annotations

from typing import Any

from engine.manifest.models.base import Finding, fail

SUPPORTED_PYTHON_SERIES: dict[str, list[str]] = {
    "PREVIEW": ["3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t"],
    "2026.10": ["3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t"],
    "2025.06": ["3.10", "3.11", "3.12", "3.13", "3.14", "3.14t", "3.15", "3.15t"],
    "2024.10": ["3.10", "3.11", "3.12", "3.13"],
    "2024.04": ["3.10", "3.11", "3.12"],
    "2023.12": ["3.10", "3.11", "3.12"],
}
END_OF_LIFE = ("3.10",)


def _key(series: str) -> tuple[int, ...]:
    return tuple(int(part) for part in series.split("."))


# Every plain series some builder offers, oldest first; and the ones without a warning.
BUILDABLE = sorted({s for series in SUPPORTED_PYTHON_SERIES.values() for s in series if not s.endswith("t")}, key=_key)
RECOMMENDED = [s for s in BUILDABLE if s not in END_OF_LIFE]


def check_python_series(version: str) -> str:
    """The model's check: a series no image builder of Modal 1.6 supports is refused."""
    if version not in BUILDABLE:
        raise fail(
            f"Python {version} is not supported by any image builder of Modal 1.6",
            hint="write one of: " + ", ".join(f'"{s}"' for s in RECOMMENDED),
        )
    return version


def check_end_of_life_python(data: Any) -> list[Finding]:
    """A warning for each image on an end-of-life series that still builds (3.10)."""
    images = data.get("images") if isinstance(data, dict) else None
    findings = []
    for key, image in images.items() if isinstance(images, dict) else ():
        version = image.get("python") if isinstance(image, dict) else None
        if version in END_OF_LIFE:
            findings.append(
                Finding(
                    ("images", key, "python"),
                    f"Python {version} is end of life: Modal's latest image builder (2026.10) does not offer it, "
                    "and Modal 1.7 will not run apps whose images use it",
                    hint="write one of: " + ", ".join(f'"{s}"' for s in RECOMMENDED),
                    severity="warning",
                )
            )
    return findings
