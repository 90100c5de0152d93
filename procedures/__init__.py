"""Procedures: the catalogue, procedure definitions, the form engine, applications and workflow.

Asks ``identity`` for the citizen's attributes; never imports the rest of ``portal``.
"""
