"""Build functions of the seam fixture's images (run by Modal while building; never here)."""


def fetch_weights() -> None:
    """Would download pinned weights into the image."""
