"""The design core: problems, parametrization, fabrication constraints, optimizer, DRC, export.

Headless and importable; both the CLI and the GUI call it.
"""
