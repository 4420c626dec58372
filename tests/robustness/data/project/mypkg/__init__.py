"""A package an image ships (python_sources)."""
