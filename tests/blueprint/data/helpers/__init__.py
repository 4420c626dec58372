"""Shipped with the kitchen-sink fixture's base image (`python_sources: [helpers]`)."""
