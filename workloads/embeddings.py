"""Embeddings for manifests/embeddings.yaml.

`embed_batch` is declared with dynamic batching in the manifest: Modal collects single calls into
lists, so the handler takes and returns lists. `embed_endpoint` is the HTTP front door.
`download_model` is manifests/embeddings-baked.yaml's image build step: it runs once while the
image builds, so the pinned weights are in the image and no container downloads them.
"""

from __future__ import annotations

import os
from functools import cache


@cache
def _model():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(
        os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"], device="cuda"
    )


def download_model() -> None:
    """Fetch the pinned model into the Hugging Face cache (HF_HOME, set by the image's env step)."""
    from huggingface_hub import snapshot_download

    snapshot_download(os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"])


def embed_batch(texts: list[str]) -> list[list[float]]:
    vectors = _model().encode(texts, normalize_embeddings=True, batch_size=len(texts))
    return [v.tolist() for v in vectors]


def embed_endpoint(item: dict) -> dict:
    """POST {"texts": [...]} -> {"embeddings": [[...], ...]}; each text is one batched call."""
    import modal

    embed = modal.Function.from_name(os.environ["MDEPLOY_APP"], "embed")
    texts = item.get("texts", [])
    return {"embeddings": list(embed.map(texts))}
