"""Handlers of the kitchen-sink fixture (planned, never run)."""
