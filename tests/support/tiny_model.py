"""The tiny test model's generator, where the tests and old command lines look for it.

It lives in the package (`engine/local/tiny_model.py`), since `mdeploy demo` makes it too:

    python tests/support/tiny_model.py DIR      # the same as: python -m engine.local.tiny_model DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from a checkout

from engine.local.tiny_model import main, write_tiny_chat_model  # noqa: E402

__all__ = ["main", "write_tiny_chat_model"]

if __name__ == "__main__":
    sys.exit(main())
