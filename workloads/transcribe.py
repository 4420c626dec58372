"""The transcription job of manifests/transcribe.yaml: Whisper weights from the `models:` section.

The weights are not downloaded here: the plan mounts the model's cache volume and sets
MDEPLOY_MODEL_WHISPER to the pinned snapshot's folder, which the prefetch function fills
(`mdeploy run manifests/transcribe.yaml prefetch-models`).
"""

from __future__ import annotations

import os

_pipeline = None


def _load():
    global _pipeline
    if _pipeline is None:
        import torch
        from transformers import pipeline

        folder = os.environ["MDEPLOY_MODEL_WHISPER"]
        if not os.path.isdir(folder):
            raise RuntimeError(f"{folder} is empty: run the prefetch function first (see the plan)")
        _pipeline = pipeline("automatic-speech-recognition", model=folder, torch_dtype=torch.float16, device="cuda")
    return _pipeline


def transcribe(audio_url: str) -> str:
    """The text of the audio at `audio_url`."""
    return _load()(audio_url)["text"]
