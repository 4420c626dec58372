"""Classes for manifests/classes.yaml: models loaded once per container, then called many times.

Plain Python classes: mdeploy builds the Modal class around each (`kind: cls` in the manifest),
makes one instance per container, runs the `enter` methods before the first input and the `exit`
methods at shutdown. Nothing here imports modal.
"""

from __future__ import annotations

import os


class Reranker:
    """Ranks passages by cosine similarity to a query, with an embedding model kept on the GPU."""

    def __init__(self) -> None:
        self.model = None

    def load(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"], device="cuda"
        )

    def score(self, query: str, passages: list[str]) -> list[float]:
        vectors = self.model.encode([query, *passages], normalize_embeddings=True)
        return [float(vectors[0] @ v) for v in vectors[1:]]

    def rank(self, query: str, passages: list[str], top: int = 3) -> list[str]:
        ranked = sorted(zip(self.score(query, passages), passages), reverse=True)
        return [passage for _, passage in ranked[:top]]

    def release(self) -> None:
        self.model = None


class Embedder:
    """Embeds texts; Modal collects single calls into one list per forward pass (`batched:`)."""

    def load(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"], device="cuda"
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, normalize_embeddings=True, batch_size=len(texts))
        return [v.tolist() for v in vectors]
