"""The project a manifest belongs to: its root folder and its Python files, read but never run.

A manifest names handlers by import path (`workloads.pipeline:discover`); the deploy ships their
packages into every image with `add_local_python_source`. This package finds those modules as
files of the project (`root.py`), reads them with `ast` (`modules.py`, `symbols.py`) and checks
that what the manifest names exists and can be called the way Modal will call it
(`handlers.py`), reported at the manifest key (`checks.py`). Nothing here imports user code.
"""
