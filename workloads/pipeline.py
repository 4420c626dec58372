"""The nightly document pipeline of manifests/pipeline.yaml.

`discover` runs on a schedule, lists new PDFs in the mounted bucket and queues them; `work`
processes one document; `drain` hands queued work to `work` in parallel. Modal objects are looked
up by the names the manifest gives them (passed in the environment), so renaming one is a
manifest change only.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

RAW_ROOT = Path("/raw")
RESULTS_ROOT = Path("/results")


def _processed():
    import modal

    return modal.Dict.from_name(os.environ["PROCESSED_DICT"], create_if_missing=True)


def _todo():
    import modal

    return modal.Queue.from_name(os.environ["TODO_QUEUE"], create_if_missing=True)


def discover() -> int:
    """Queue every PDF under the bucket mount that has not been processed yet."""
    processed, todo = _processed(), _todo()
    new = [str(p.relative_to(RAW_ROOT)) for p in sorted(RAW_ROOT.rglob("*.pdf")) if str(p) not in processed]
    if new:
        todo.put_many(new)
    return len(new)


def process_document(relative_path: str) -> dict:
    """Extract the text of one PDF, write it to the results volume, record it as processed."""
    from pypdf import PdfReader

    source = RAW_ROOT / relative_path
    reader = PdfReader(source)
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    target = RESULTS_ROOT / relative_path
    target = target.with_suffix(".txt")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    summary = {"path": relative_path, "pages": len(reader.pages), "chars": len(text)}
    _processed()[str(source)] = json.dumps(summary)
    return summary


def drain_queue(batch: int = 100) -> int:
    """Take up to `batch` queued paths at a time and process them in parallel containers."""
    import modal

    worker = modal.Function.from_name(os.environ["MDEPLOY_APP"], "work")
    todo = _todo()
    done = 0
    while paths := todo.get_many(batch, block=False):
        for _ in worker.map(paths, return_exceptions=True):
            done += 1
    return done
