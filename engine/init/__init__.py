"""`mdeploy init`: a first manifest of one's own, and nothing that does not validate.

choices.py   what to write (kind, engine, model, names, paths), its defaults, checked
revision.py  the model's pinned revision: given, from the Hub (bounded), or from the local cache
render.py    the manifest, overlay and handler stub as text, with comments that teach
write.py     write them without overwriting anything, validate, take them back if invalid
prompts.py   the questions asked on a terminal, for the choices no flag made
"""
