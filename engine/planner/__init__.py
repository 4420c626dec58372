"""The planner: a loaded manifest in, a Blueprint and the origin of each of its values out.

`plan.py` holds the entry points (plan_file, plan_app, load_and_plan, ...); each other module
decides one part of the Blueprint (services, functions, images, models, names, defaults) or
keeps the record of where a value came from (origins.py). Nothing here performs I/O beyond
reading the manifest's project files; nothing here knows Modal.
"""
