"""The functions of manifests/hello-jobs.yaml: word counts saved to a volume, and their summary.

The volume's path comes from REPORTS_DIR, which the manifest sets to its mount path: /reports on
Modal, the volume's local folder under `mdeploy run`. Code that wrote "/reports" itself would
work only in the container.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def _reports() -> Path:
    return Path(os.environ["REPORTS_DIR"])


def count_words(text: str) -> dict:
    """Count the words of `text` and save the count as a report on the volume."""
    words = text.split()
    report = {"words": len(words), "distinct": len({w.lower() for w in words}), "text": text}
    name = hashlib.sha256(text.encode()).hexdigest()[:12] + ".json"
    (_reports() / name).write_text(json.dumps(report), encoding="utf-8")
    return {"words": report["words"], "distinct": report["distinct"], "saved": name}


def summary() -> dict:
    """Every saved report, summed: how many texts and words the volume holds."""
    reports = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(_reports().glob("*.json"))]
    return {"reports": len(reports), "words": sum(r["words"] for r in reports)}
