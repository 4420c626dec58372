"""Errors for user mistakes that are not about a manifest's content.

A missing file, a port already in use, an engine executable that is not installed, Modal
credentials that are absent: the CLI prints `UserError` as one line and exits with its code.
`engine.manifest.errors.ManifestError` is the other type the CLI expects; anything else escaping
is a bug and gets a traceback only with MDEPLOY_TRACEBACK=1.
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake or missing prerequisite the user can fix; printed as `error: <message>`."""

    def __init__(self, message: str, *, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
