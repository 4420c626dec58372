"""Handlers for the rule manifests under rules/ (parsed by `mdeploy validate`, never imported)."""

from .tasks import process, nightly

__all__ = ["process", "nightly", "embed"]

from jobs.batch import embed_batch as embed
