"""Embeddings for manifests/embeddings.yaml.

`embed_batch` is declared with dynamic batching in the manifest: Modal collects single calls into
lists, so the handler takes and returns lists. `embed_endpoint` is the HTTP front door.
`embed_baked_batch` is manifests/embeddings-baked.yaml's: the same, with the pinned weights read
from the image, where its `- models: [bge]` build step put them (MDEPLOY_MODEL_BGE names them).
"""

from __future__ import annotations

import os
from functools import cache


@cache
def _model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"], device="cuda")


@cache
def _baked_model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(os.environ["MDEPLOY_MODEL_BGE"], device="cuda")


def embed_baked_batch(texts: list[str]) -> list[list[float]]:
    vectors = _baked_model().encode(texts, normalize_embeddings=True, batch_size=len(texts))
    return [v.tolist() for v in vectors]


def embed_batch(texts: list[str]) -> list[list[float]]:
    vectors = _model().encode(texts, normalize_embeddings=True, batch_size=len(texts))
    return [v.tolist() for v in vectors]


def embed_endpoint(item: dict) -> dict:
    """POST {"texts": [...]} -> {"embeddings": [[...], ...]}; each text is one batched call."""
    import modal

    embed = modal.Function.from_name(os.environ["MDEPLOY_APP"], "embed")
    texts = item.get("texts", [])
    return {"embeddings": list(embed.map(texts))}
