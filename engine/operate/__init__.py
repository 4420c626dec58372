"""After the merge: deploy safely, see what runs, roll back, know what it costs.

Every module here reads the Blueprint (through `names.py`, the one place that turns it into
Modal's names) and talks to Modal only through Modal's own CLI (`modal_cli.py`), so a dry run
prints exactly what would run and a test can intercept exactly what is called.
"""
