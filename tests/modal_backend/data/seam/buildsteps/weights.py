"""Build functions of the seam fixture's images (run by Modal while building; never here)."""


def fetch_weights() -> None:
    """Would download pinned weights into the image."""


def bake_encoder() -> None:
    """Would copy the encoder from MDEPLOY_MODEL_ENCODER into the image at BAKE_TO."""
