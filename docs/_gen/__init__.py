"""Generators of the documentation pages that must not drift from the code.

The mkdocs hook (`docs/hooks.py`) calls them at build time: the canonical model reference comes
from `caudal.model.json_schema()`, each connector's page from its manifest, class, settings and
emulator, and the marked blocks of the hand-written pages (`<!-- caudal:NAME -->`) from the
objects they describe. Nothing here is imported by caudal itself.
"""
