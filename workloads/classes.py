"""Classes for manifests/classes.yaml: models loaded once per container, then called many times.

Plain Python classes: mdeploy builds the Modal class around each (`kind: cls` in the manifest),
makes one instance per container (passing the class parameters as keyword arguments), runs the
`enter` methods before the first input and the `exit` methods at shutdown. With a memory
snapshot, `before_snapshot` methods run once and the snapshot keeps their work; `after_restore`
ones run in every container. Nothing here imports modal.
"""

from __future__ import annotations

import os


class Reranker:
    """Ranks passages by cosine similarity to a query, with an embedding model kept on the GPU.

    Started from a memory snapshot: `load` reads the model into CPU memory before the snapshot
    (restored containers skip it), `to_gpu` moves it to the GPU after each restore."""

    def __init__(self) -> None:
        self.model = None

    def load(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"], device="cpu"
        )

    def to_gpu(self) -> None:
        self.model.to("cuda")

    def score(self, query: str, passages: list[str]) -> list[float]:
        vectors = self.model.encode([query, *passages], normalize_embeddings=True)
        return [float(vectors[0] @ v) for v in vectors[1:]]

    def rank(self, query: str, passages: list[str], top: int = 3) -> list[str]:
        ranked = sorted(zip(self.score(query, passages), passages), reverse=True)
        return [passage for _, passage in ranked[:top]]

    def release(self) -> None:
        self.model = None


class Embedder:
    """Embeds texts; Modal collects single calls into one list per forward pass (`batched:`).

    `normalize` is a class parameter: `Cls.from_name("classes", "Embedder")(normalize=False)` is
    a pool of containers of its own, whose instances are made with Embedder(normalize=False)."""

    def __init__(self, normalize: bool = True) -> None:
        self.normalize = normalize

    def load(self) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(
            os.environ["EMBEDDING_MODEL"], revision=os.environ["EMBEDDING_REVISION"], device="cuda"
        )

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, normalize_embeddings=self.normalize, batch_size=len(texts))
        return [v.tolist() for v in vectors]
