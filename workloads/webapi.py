"""A small FastAPI notes service for manifests/web-api.yaml, storing notes in a Modal Dict."""

from __future__ import annotations

import os

from fastapi import FastAPI, HTTPException

app = FastAPI(title="notes")


def _store():
    import modal

    return modal.Dict.from_name(os.environ["NOTES_DICT"], create_if_missing=True)


@app.get("/health")
def health() -> dict:
    return {"ok": True}


@app.put("/notes/{note_id}")
def put_note(note_id: str, body: dict) -> dict:
    _store()[note_id] = body.get("text", "")
    return {"id": note_id}


@app.get("/notes/{note_id}")
def get_note(note_id: str) -> dict:
    store = _store()
    if note_id not in store:
        raise HTTPException(status_code=404, detail="no such note")
    return {"id": note_id, "text": store[note_id]}
